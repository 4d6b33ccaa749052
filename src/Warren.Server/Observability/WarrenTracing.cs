using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Warren.Core.Diagnostics;

namespace Warren.Server.Observability;

/// <summary>Where traces go, read once at start-up from the OpenTelemetry variables of the environment:
/// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), OTEL_EXPORTER_OTLP_PROTOCOL ("grpc" or
/// "http/protobuf") and OTEL_SERVICE_NAME. No endpoint: no tracing at all (no listener, so no span is created).</summary>
public sealed record TracingSettings(Uri? OtlpEndpoint, OtlpExportProtocol Protocol, string ServiceName)
{
    public static TracingSettings Off { get; } = new(null, OtlpExportProtocol.Grpc, "warren");

    public bool Enabled => OtlpEndpoint is not null;

    /// <summary>The settings the variables give; a malformed one is a start-up error (an exception, with the variable named).</summary>
    public static TracingSettings FromEnvironment(Func<string, string?> getEnv)
    {
        ArgumentNullException.ThrowIfNull(getEnv);
        static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

        var protocol = NonEmpty(getEnv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")) ?? NonEmpty(getEnv("OTEL_EXPORTER_OTLP_PROTOCOL"));
        var kind = protocol switch
        {
            null or "grpc" => OtlpExportProtocol.Grpc,
            "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
            _ => throw new InvalidOperationException($"OTEL_EXPORTER_OTLP_PROTOCOL \"{protocol}\": want grpc or http/protobuf"),
        };
        var service = NonEmpty(getEnv("OTEL_SERVICE_NAME")) ?? "warren";
        Uri? endpoint = null;
        if (NonEmpty(getEnv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) is { } traces)
        {
            endpoint = Absolute("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces);
        }
        else if (NonEmpty(getEnv("OTEL_EXPORTER_OTLP_ENDPOINT")) is { } common)
        {
            // The signal-independent endpoint is a base: over HTTP the traces go to its /v1/traces.
            var baseUri = Absolute("OTEL_EXPORTER_OTLP_ENDPOINT", common);
            endpoint = kind == OtlpExportProtocol.HttpProtobuf ? new Uri(baseUri.AbsoluteUri.TrimEnd('/') + "/v1/traces") : baseUri;
        }

        return new TracingSettings(endpoint, kind, service);
    }

    private static Uri Absolute(string variable, string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new InvalidOperationException($"{variable} \"{value}\": want an http(s) URL");
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
