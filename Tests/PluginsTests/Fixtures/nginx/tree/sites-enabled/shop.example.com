# The shop proxies to Apache on the same host over HTTPS, by IP.
server {
    listen 443 ssl default_server;
    listen [::]:443 ssl default_server;
    server_name shop.example.com;
    include snippets/ssl-example.conf;

    location / {
        proxy_pass https://127.0.0.1:8443;  # <-- finding: nginx.proxy-ssl-server-name-off nginx.proxy-ssl-name-missing
    }

    location /static/ {
        root /var/www/shop;
    }
}
