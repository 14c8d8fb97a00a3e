server {
    listen 443 ssl;
    listen [::]:443 ssl;
    server_name api.example.com;
    ssl_certificate /etc/ssl/certs/api.example.com.pem;
    ssl_certificate_key /etc/ssl/private/api.example.com.key;

    proxy_ssl_server_name on;

    location / {
        # Inherits proxy_ssl_server_name on; the origin is a name, and Host is $host from conf.d:
        # SNI 'origin.internal' and Host differ.
        proxy_pass https://origin.internal:443;  # <-- finding: nginx.proxy-ssl-name-missing

        location /v1/legacy/ {
            proxy_ssl_server_name off;
            proxy_ssl_name $host;
            proxy_pass "https://origin.internal";  # <-- finding: nginx.proxy-ssl-server-name-off
        }
    }

    location /health {
        # Plain HTTP to the origin: no TLS, nothing to report.
        proxy_pass http://127.0.0.1:8080;
    }
}
