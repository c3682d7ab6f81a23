# Shared by bench/soak/soak.sh and bench/alloc/alloc.sh (sourced): the daemon's throw-away config on loopback,
# its ports, and a Salt token.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# write_master DIR WSGI_PORT CHERRYPY_PORT RET_PORT THREAD_POOL: DIR/master (the embedded master with 5 minions,
# rest_wsgi and rest_cherrypy) and DIR/users (file eauth, saltdev:saltdev).
write_master() {
  local dir=$1 wsgi=$2 cherry=$3 ret=$4 pool=$5
  printf 'saltdev:saltdev\n' > "$dir/users"
  cat > "$dir/master" <<YAML
api_pidfile: $dir/salt-api.pid
interface: 127.0.0.1
ret_port: $ret
sock_dir: $dir/sock
cachedir: $dir/cache
timeout: 5
gather_job_timeout: 5
netapi_enable_clients: [local, local_async, runner, wheel]
external_auth:
  file:
    ^filename: $dir/users
    ^filetype: text
    saltdev: ['.*', '@runner', '@wheel', '@jobs']
embedded_master:
  minions: 5
  write_job_cache: false
rest_wsgi:
  port: $wsgi
  thread_pool: $pool
rest_cherrypy:
  port: $cherry
  host: 127.0.0.1
  disable_ssl: true
  thread_pool: $pool
YAML
}

# wait_ports PORT...: until each accepts a connection (30 s at most each).
wait_ports() {
  local port
  for port in "$@"; do
    for _ in $(seq 1 300); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  done
}

# salt_token CHERRYPY_PORT: a token from rest_cherrypy's /token (saltdev, file eauth).
salt_token() {
  curl -sf -H 'Content-Type: application/json' -d '{"username":"saltdev","password":"saltdev","eauth":"file"}' "http://127.0.0.1:$1/token" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["token"])'
}

# write_post_lua FILE BODY: a wrk script that POSTs BODY as JSON.
write_post_lua() {
  cat > "$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '$2'
LUA
}
