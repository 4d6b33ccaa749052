using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Warren.Storage.Tests;

/// <summary>An S3 server that honours If-None-Match: * on PUT and on CompleteMultipartUpload, as AWS S3 does: a
/// loopback proxy in front of the test server (which ignores the header) that, one conditional request at a time,
/// answers 412 PreconditionFailed when the key exists and otherwise forwards the request.</summary>
internal sealed class ConditionalS3Proxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false });
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _upstream;
    private int _conditional;
    private int _refused;
    private int _writes;

    private ConditionalS3Proxy(WebApplication app, string upstream)
    {
        _app = app;
        _upstream = upstream.TrimEnd('/');
    }

    public string Endpoint => _app.Urls.First();

    /// <summary>Writes (PUT, or POST completing an upload) that carried If-None-Match: *.</summary>
    public int ConditionalWrites => Volatile.Read(ref _conditional);

    /// <summary>Every write (PUT, or POST completing an upload).</summary>
    public int Writes => Volatile.Read(ref _writes);

    /// <summary>Conditional writes answered 412.</summary>
    public int Refused => Volatile.Read(ref _refused);

    public static async Task<ConditionalS3Proxy> StartAsync(string upstream)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var proxy = new ConditionalS3Proxy(app, upstream);
        app.Run(proxy.HandleAsync);
        await app.StartAsync();
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _http.Dispose();
        _gate.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var isPut = HttpMethods.IsPut(request.Method) && !request.Query.ContainsKey("partNumber");
        var isComplete = HttpMethods.IsPost(request.Method) && request.Query.ContainsKey("uploadId");
        var conditional = (isPut || isComplete) && request.Headers.IfNoneMatch.ToString() == "*";
        if (isPut || isComplete)
        {
            Interlocked.Increment(ref _writes);
        }

        if (conditional)
        {
            Interlocked.Increment(ref _conditional);
            await _gate.WaitAsync(context.RequestAborted);
        }

        try
        {
            if (conditional)
            {
                using var head = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, _upstream + request.Path), context.RequestAborted);
                if (head.StatusCode == HttpStatusCode.OK)
                {
                    Interlocked.Increment(ref _refused);
                    context.Response.StatusCode = StatusCodes.Status412PreconditionFailed;
                    context.Response.ContentType = "application/xml";
                    await context.Response.WriteAsync(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>",
                        Encoding.UTF8, context.RequestAborted);
                    return;
                }
            }

            await ForwardAsync(context);
        }
        finally
        {
            if (conditional)
            {
                _gate.Release();
            }
        }
    }

    private async Task ForwardAsync(HttpContext context)
    {
        var request = context.Request;
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), _upstream + request.Path + request.QueryString);
        if (request.ContentLength > 0 || request.Headers.ContainsKey("Transfer-Encoding"))
        {
            message.Content = new StreamContent(request.Body);
        }

        foreach (var (name, values) in request.Headers)
        {
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!message.Headers.TryAddWithoutValidation(name, values.ToArray()))
            {
                message.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        if (!HttpMethods.IsHead(request.Method))
        {
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }
}
