using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Warren.Core.Diagnostics;
using Warren.Server.Observability;

namespace Warren.Server.Tests.Observability;

/// <summary>Traces exported over OTLP/HTTP (protobuf) to a receiver on loopback, decoded here with a small protobuf
/// reader: a server span per request with Warren's spans beneath it, in one trace.</summary>
public sealed class TracingTests
{
    private const int KindServer = 2;
    private const int KindClient = 3;

    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    [Fact]
    public async Task A_fetching_request_is_one_trace_a_server_span_over_upstream_fetch_verify_and_store_exported_over_otlp()
    {
        var bodies = new ConcurrentQueue<byte[]>();
        var paths = new ConcurrentQueue<string>();
        var (receiver, receiverUrl) = await LoopbackApp.StartAsync(async context =>
        {
            paths.Enqueue(context.Request.Path.Value ?? "");
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            bodies.Enqueue(body.ToArray());
            context.Response.ContentType = "application/x-protobuf";
            context.Response.StatusCode = StatusCodes.Status200OK;
        });
        await using var upstream = await FakeUpstream.StartAsync(TestPaths.Corpus);
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiverUrl,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "warren-under-test",
        };
        var app = WarrenHost.Build(o =>
        {
            o.Listen = "127.0.0.1:0";
            o.Root = TestPaths.NewTempDir("store");
            o.Upstream = upstream.Url;
            o.SumDb = "off";
            o.Private = "";
            o.NoProxy = "";
            o.NoSumDb = "";
            o.Fsync = false;
        }, getEnv: k => env.GetValueOrDefault(k));
        await app.StartAsync();
        try
        {
            var url = WarrenHost.Addresses(app).First(a => a.StartsWith("http:", StringComparison.Ordinal)).TrimEnd('/');
            // The request carries its own trace id (and the client does not propagate one of its own), so the spans of
            // this request are told apart from those of tests running beside it in this process.
            using var client = new HttpClient(new SocketsHttpHandler { ActivityHeadersPropagator = null });
            using var request = new HttpRequestMessage(HttpMethod.Get, url + "/github.com/fatih/color/@v/v1.13.0.mod");
            request.Headers.Add("traceparent", "00-" + TraceId + "-00f067aa0ba902b7-01");
            using (var response = await client.SendAsync(request))
            {
                Assert.Equal(200, (int)response.StatusCode);
            }

            Assert.True(app.Services.GetRequiredService<TracerProvider>().ForceFlush(30_000), "the exporter did not flush");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            await LoopbackApp.StopAsync(receiver);
        }

        Assert.NotEmpty(paths);
        Assert.All(paths, p => Assert.Equal("/v1/traces", p));
        var spans = bodies.SelectMany(Otlp.Spans).ToList();
        Assert.Equal("warren-under-test", Assert.Single(bodies.SelectMany(Otlp.ServiceNames).Distinct()));

        // (The fake upstream, the receiver and other tests run in this process too, so their spans may be exported
        // as well: the request's trace is the one its traceparent named.)
        var trace = spans.Where(s => Convert.ToHexString(s.TraceId).Equals(TraceId, StringComparison.OrdinalIgnoreCase)).ToList();
        var fetch = Assert.Single(trace, s => s.Name == WarrenActivity.UpstreamFetch);
        var byId = trace.ToDictionary(s => Convert.ToHexString(s.SpanId));
        bool Under(Otlp.Span span, Otlp.Span ancestor)
        {
            for (var at = span; at.ParentSpanId.Length > 0 && byId.TryGetValue(Convert.ToHexString(at.ParentSpanId), out var parent); at = parent)
            {
                if (ReferenceEquals(parent, ancestor))
                {
                    return true;
                }
            }

            return false;
        }

        var server = Assert.Single(trace, s => s.Kind == KindServer && Under(fetch, s));
        Assert.StartsWith("GET", server.Name, StringComparison.Ordinal);
        foreach (var expected in new[] { WarrenActivity.Verify, WarrenActivity.StoreCommit })
        {
            Assert.True(trace.Any(s => s.Name == expected && Under(s, server)),
                $"no {expected} span under the server span: {string.Join(", ", trace.Select(s => s.Name))}");
        }

        // The upstream's HTTP request is a client span under the fetch.
        Assert.Contains(trace, s => s.Kind == KindClient && Under(s, fetch));
    }

    [Fact]
    public async Task Without_an_endpoint_nothing_is_traced_and_the_variables_are_read_as_the_specification_says()
    {
        Assert.False(TracingSettings.FromEnvironment(_ => null).Enabled);
        await using var app = WarrenHost.Build(o =>
        {
            o.Listen = "127.0.0.1:0";
            o.Root = TestPaths.NewTempDir("store");
            o.Upstream = "off";
            o.SumDb = "off";
        }, getEnv: _ => null);
        Assert.Null(app.Services.GetService<TracerProvider>());

        var http = TracingSettings.FromEnvironment(k => k switch
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => "http://127.0.0.1:4318/",
            "OTEL_EXPORTER_OTLP_PROTOCOL" => "http/protobuf",
            _ => null,
        });
        Assert.Equal(new Uri("http://127.0.0.1:4318/v1/traces"), http.OtlpEndpoint);
        var grpc = TracingSettings.FromEnvironment(k => k == "OTEL_EXPORTER_OTLP_ENDPOINT" ? "http://127.0.0.1:4317" : null);
        Assert.Equal(new Uri("http://127.0.0.1:4317"), grpc.OtlpEndpoint);
        Assert.Equal(OpenTelemetry.Exporter.OtlpExportProtocol.Grpc, grpc.Protocol);
        var own = TracingSettings.FromEnvironment(k => k switch
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => "http://127.0.0.1:4318",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" => "http://127.0.0.1:9999/traces",
            "OTEL_EXPORTER_OTLP_PROTOCOL" => "http/protobuf",
            _ => null,
        });
        Assert.Equal(new Uri("http://127.0.0.1:9999/traces"), own.OtlpEndpoint);

        // A malformed variable is refused at start-up with one line naming it.
        var bad = TracingSettings.FromEnvironment(k => k == "OTEL_EXPORTER_OTLP_PROTOCOL" ? "carrier-pigeon" : null);
        Assert.False(bad.Enabled);
        Assert.Contains("OTEL_EXPORTER_OTLP_PROTOCOL \"carrier-pigeon\"", bad.Problem, StringComparison.Ordinal);
        await using var refused = WarrenHost.Build(o =>
        {
            o.Listen = "127.0.0.1:0";
            o.Root = TestPaths.NewTempDir("store");
            o.Upstream = "off";
            o.SumDb = "off";
        }, getEnv: k => k == "OTEL_EXPORTER_OTLP_ENDPOINT" ? "localhost:4317" : null);
        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => refused.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Warren.Server.Configuration.WarrenOptions>>().Value);
        Assert.Contains("OTEL_EXPORTER_OTLP_ENDPOINT \"localhost:4317\": want an http(s) URL", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Just enough of the OTLP protobuf schema (opentelemetry/proto/collector/trace/v1) to read spans.</summary>
    private static class Otlp
    {
        public sealed record Span(byte[] TraceId, byte[] SpanId, byte[] ParentSpanId, string Name, int Kind);

        // ExportTraceServiceRequest.resource_spans = 1; ResourceSpans.scope_spans = 2; ScopeSpans.spans = 2.
        public static IEnumerable<Span> Spans(byte[] request) =>
            from resourceSpans in Fields(request).Where(f => f.Number == 1)
            from scopeSpans in Fields(resourceSpans.Bytes).Where(f => f.Number == 2)
            from span in Fields(scopeSpans.Bytes).Where(f => f.Number == 2)
            select ReadSpan(span.Bytes);

        // ResourceSpans.resource = 1; Resource.attributes = 1 (KeyValue: key = 1, value = 2; AnyValue.string_value = 1).
        public static IEnumerable<string> ServiceNames(byte[] request) =>
            from resourceSpans in Fields(request).Where(f => f.Number == 1)
            from resource in Fields(resourceSpans.Bytes).Where(f => f.Number == 1)
            from attribute in Fields(resource.Bytes).Where(f => f.Number == 1)
            let key = Fields(attribute.Bytes).FirstOrDefault(f => f.Number == 1)
            where key.Bytes is not null && System.Text.Encoding.UTF8.GetString(key.Bytes) == "service.name"
            from value in Fields(attribute.Bytes).Where(f => f.Number == 2)
            from text in Fields(value.Bytes).Where(f => f.Number == 1)
            select System.Text.Encoding.UTF8.GetString(text.Bytes);

        // Span: trace_id = 1, span_id = 2, parent_span_id = 4, name = 5, kind = 6.
        private static Span ReadSpan(byte[] span)
        {
            byte[] traceId = [], spanId = [], parent = [];
            var name = "";
            var kind = 0;
            foreach (var f in Fields(span))
            {
                switch (f.Number)
                {
                    case 1: traceId = f.Bytes; break;
                    case 2: spanId = f.Bytes; break;
                    case 4: parent = f.Bytes; break;
                    case 5: name = System.Text.Encoding.UTF8.GetString(f.Bytes); break;
                    case 6: kind = (int)f.Varint; break;
                }
            }

            return new Span(traceId, spanId, parent, name, kind);
        }

        private static List<(int Number, byte[] Bytes, ulong Varint)> Fields(byte[] message)
        {
            var fields = new List<(int, byte[], ulong)>();
            var i = 0;
            while (i < message.Length)
            {
                var tag = Varint(message, ref i);
                var number = (int)(tag >> 3);
                switch (tag & 7)
                {
                    case 0:
                        fields.Add((number, [], Varint(message, ref i)));
                        break;
                    case 1:
                        i += 8;
                        break;
                    case 2:
                        var length = (int)Varint(message, ref i);
                        fields.Add((number, message[i..(i + length)], 0));
                        i += length;
                        break;
                    case 5:
                        i += 4;
                        break;
                    default:
                        throw new InvalidDataException($"wire type {tag & 7} at {i}");
                }
            }

            return fields;
        }

        private static ulong Varint(byte[] data, ref int i)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = data[i++];
                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
        }
    }
}
