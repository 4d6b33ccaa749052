using System.Globalization;
using System.Text;

namespace Warren.Testing.Services;

/// <summary>nginx on 127.0.0.1 in front of several backends, as a cluster's load balancer: round robin, passive health
/// checks, idempotent requests retried on the next backend when one fails or dies, nothing buffered to disk. Config,
/// logs and temporary files live in a directory of its own, removed on dispose.</summary>
public sealed class NginxBalancer : IAsyncDisposable
{
    private readonly BackgroundProcess _process;
    private readonly string _dir;

    private NginxBalancer(BackgroundProcess process, string dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
        Url = "http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
    }

    public int Port { get; }

    public string Url { get; }

    /// <summary>The access log: one line per request with the backend that answered ($upstream_addr).</summary>
    public string AccessLog => File.Exists(Path.Combine(_dir, "access.log")) ? File.ReadAllText(Path.Combine(_dir, "access.log")) : "";

    /// <summary>Starts nginx balancing over the backend URLs (http://127.0.0.1:PORT).</summary>
    public static async Task<NginxBalancer> StartAsync(IEnumerable<string> backends)
    {
        var nginx = new[] { "/usr/sbin/nginx", "/usr/bin/nginx" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nginx is not installed (Debian: apt-get install nginx); scripts/test.sh installs it");
        var dir = TestPaths.NewTempDir("nginx");
        var port = Loopback.FreePort();
        var servers = new StringBuilder();
        foreach (var backend in backends)
        {
            var uri = new Uri(backend);
            servers.Append(CultureInfo.InvariantCulture, $"        server 127.0.0.1:{uri.Port} max_fails=1 fail_timeout=5s;\n");
        }

        var user = Environment.UserName == "root" ? "user root;\n" : "";
        var config = $$"""
            {{user}}worker_processes 1;
            daemon off;
            pid {{dir}}/nginx.pid;
            error_log {{dir}}/error.log warn;
            events { worker_connections 4096; }
            http {
                log_format balanced '$request $status $upstream_addr';
                access_log {{dir}}/access.log balanced;
                client_body_temp_path {{dir}}/body;
                proxy_temp_path {{dir}}/proxy;
                fastcgi_temp_path {{dir}}/fastcgi;
                uwsgi_temp_path {{dir}}/uwsgi;
                scgi_temp_path {{dir}}/scgi;
                upstream warren {
            {{servers}}        keepalive 64;
                }
                server {
                    listen 127.0.0.1:{{port}};
                    location / {
                        proxy_pass http://warren;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header Host $host:$server_port;
                        proxy_next_upstream error timeout http_502 http_503 http_504;
                        proxy_next_upstream_tries 3;
                        proxy_connect_timeout 2s;
                        proxy_read_timeout 300s;
                        proxy_buffering off;
                        proxy_max_temp_file_size 0;
                    }
                }
            }
            """;
        var file = Path.Combine(dir, "nginx.conf");
        await File.WriteAllTextAsync(file, config).ConfigureAwait(false);
        var process = BackgroundProcess.Start(nginx, ["-p", dir + "/", "-c", file, "-e", Path.Combine(dir, "error.log")]);
        var balancer = new NginxBalancer(process, dir, port);
        try
        {
            await process.WaitForPortAsync(port, TimeSpan.FromSeconds(20)).ConfigureAwait(false);
        }
        catch
        {
            var log = File.Exists(Path.Combine(dir, "error.log")) ? await File.ReadAllTextAsync(Path.Combine(dir, "error.log")).ConfigureAwait(false) : "";
            await balancer.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException("nginx did not start: " + process.Output + "\n" + log);
        }

        return balancer;
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
