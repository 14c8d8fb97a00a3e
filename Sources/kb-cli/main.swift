print("kb")
