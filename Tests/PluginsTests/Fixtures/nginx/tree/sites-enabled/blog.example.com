# The blog does it right: SNI on and the client's host name as SNI.
server {
    listen 443 ssl;
    listen [::]:443 ssl;
    server_name blog.example.com;
    include snippets/ssl-example.conf;

    proxy_ssl_server_name on;
    proxy_ssl_name $host;

    location / {
        proxy_pass https://127.0.0.1:8443;
    }
}
