using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Warren.Core.Diagnostics;

namespace Warren.Server.Observability;

/// <summary>Where traces go, read once at start-up (by the environment hook, into the options) from the OpenTelemetry
/// variables: OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), OTEL_EXPORTER_OTLP_PROTOCOL ("grpc"
/// or "http/protobuf") and OTEL_SERVICE_NAME. No endpoint: no tracing at all (no listener, so no span is created).</summary>
public sealed record TracingSettings(Uri? OtlpEndpoint, OtlpExportProtocol Protocol, string ServiceName)
{
    public static TracingSettings Off { get; } = new(null, OtlpExportProtocol.Grpc, "warren");

    /// <summary>What is wrong with the variables (one line, the variable named), reported by the options validator; null when nothing is.</summary>
    public string? Problem { get; init; }

    public bool Enabled => OtlpEndpoint is not null && Problem is null;

    /// <summary>The settings the variables give; a malformed variable leaves tracing off with a <see cref="Problem"/>.</summary>
    public static TracingSettings FromEnvironment(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

        var protocol = NonEmpty(getEnv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")) ?? NonEmpty(getEnv("OTEL_EXPORTER_OTLP_PROTOCOL"));
        var service = NonEmpty(getEnv("OTEL_SERVICE_NAME")) ?? "warren";
        OtlpExportProtocol kind;
        switch (protocol)
        {
            case null or "grpc":
                kind = OtlpExportProtocol.Grpc;
                break;
            case "http/protobuf":
                kind = OtlpExportProtocol.HttpProtobuf;
                break;
            default:
                return Off with { Problem = $"OTEL_EXPORTER_OTLP_PROTOCOL \"{protocol}\": want grpc or http/protobuf" };
        }

        var (variable, value) = NonEmpty(getEnv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) is { } traces
            ? ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces)
            : ("OTEL_EXPORTER_OTLP_ENDPOINT", NonEmpty(getEnv("OTEL_EXPORTER_OTLP_ENDPOINT")));
        if (value is null)
        {
            return new TracingSettings(null, kind, service);
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var endpoint) || endpoint.Scheme is not ("http" or "https"))
        {
            return Off with { Problem = $"{variable} \"{value}\": want an http(s) URL" };
        }

        // The signal-independent endpoint is a base: over HTTP the traces go to its /v1/traces.
        if (variable == "OTEL_EXPORTER_OTLP_ENDPOINT" && kind == OtlpExportProtocol.HttpProtobuf)
        {
            endpoint = new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/v1/traces");
        }

        return new TracingSettings(endpoint, kind, service);
    }
}

public static class WarrenTracing
{
    /// <summary>Registers OpenTelemetry tracing when settings has an endpoint: a span per request (ASP.NET Core), per
    /// outbound HTTP request, and Warren's own spans (upstream fetch, git, verify, store), exported over OTLP.
    /// /healthz, /readyz and /metrics are not traced.</summary>
    public static IServiceCollection AddWarrenTracing(this IServiceCollection services, TracingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!settings.Enabled)
        {
            return services;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(settings.ServiceName))
            .WithTracing(t => t
                .AddSource(WarrenActivity.SourceName)
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsOperational(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddOtlpExporter(o =>
                {
                    o.Endpoint = settings.OtlpEndpoint!;
                    o.Protocol = settings.Protocol;
                }));
        return services;
    }

    private static bool IsOperational(PathString path) =>
        path.Equals("/healthz", StringComparison.Ordinal) || path.Equals("/readyz", StringComparison.Ordinal) || path.Equals("/metrics", StringComparison.Ordinal);
}
