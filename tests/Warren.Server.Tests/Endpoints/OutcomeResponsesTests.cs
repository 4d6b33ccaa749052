using Warren.Server.Endpoints;
using Warren.Server.Ingest;
using Warren.Server.SumDb;
using Warren.Server.Upstream;

namespace Warren.Server.Tests.Endpoints;

/// <summary>Outcomes become the statuses the go command and the existing clients expect, with one-line bodies.</summary>
public sealed class OutcomeResponsesTests
{
    [Theory]
    [InlineData(OutcomeKind.NotFound, 404)]
    [InlineData(OutcomeKind.Gone, 410)]
    [InlineData(OutcomeKind.BadRequest, 400)]
    [InlineData(OutcomeKind.Forbidden, 403)]
    [InlineData(OutcomeKind.UpstreamFailed, 502)]
    [InlineData(OutcomeKind.Timeout, 504)]
    [InlineData(OutcomeKind.Refused, 502)]
    public void Each_kind_has_its_status(OutcomeKind kind, int status) =>
        Assert.Equal(status, OutcomeResponses.StatusCode(new Outcome(kind, "why")));

    [Fact]
    public void Every_kind_is_mapped()
    {
        foreach (var kind in Enum.GetValues<OutcomeKind>())
        {
            Assert.InRange(OutcomeResponses.StatusCode(new Outcome(kind, "why")), 400, 599);
        }
    }

    [Fact]
    public void Every_refusal_reason_is_a_bad_gateway()
    {
        foreach (var reason in Enum.GetValues<ReasonKind>())
        {
            Assert.Equal(502, OutcomeResponses.StatusCode(Outcome.Refused(reason, "refused")));
        }
    }

    [Fact]
    public void The_body_is_the_message_on_one_line()
    {
        Assert.Equal("not found: example.com/m@v1.0.0\n", OutcomeResponses.Body(Outcome.NotFound("not found: example.com/m@v1.0.0")));
        Assert.Equal("upstream failed: first second\n", OutcomeResponses.Body(Outcome.UpstreamFailed("upstream failed: first\nsecond")));
    }

    [Fact]
    public void Fetch_results_become_the_matching_kinds()
    {
        Assert.Equal(OutcomeKind.NotFound, Outcome.FromFetch(FetchOutcome.NotFound("p", "no"), "m").Kind);
        Assert.Equal(OutcomeKind.Gone, Outcome.FromFetch(FetchOutcome.NotFound("p", "no", gone: true), "m").Kind);
        Assert.Equal(OutcomeKind.UpstreamFailed, Outcome.FromFetch(FetchOutcome.Failed("p", "503"), "m").Kind);
        Assert.Equal(OutcomeKind.Timeout, Outcome.FromFetch(FetchOutcome.Failed("p", "slow", timedOut: true), "m").Kind);
        Assert.Equal("m", Outcome.FromFetch(FetchOutcome.Failed("p", "503"), "m").Message);
        Assert.Throws<ArgumentException>(() => Outcome.FromFetch(FetchOutcome.Ok("p", 1), "m"));
    }

    [Fact]
    public void A_refused_checksum_verdict_is_a_checksum_refusal_or_a_timeout()
    {
        var refused = Outcome.FromVerdict(ChecksumVerdict.Refused("checksum mismatch"));
        Assert.Equal(OutcomeKind.Refused, refused.Kind);
        Assert.Equal(ReasonKind.ChecksumRejected, refused.Reason);
        Assert.Equal("checksum mismatch", refused.Message);
        Assert.Equal(OutcomeKind.Timeout, Outcome.FromVerdict(ChecksumVerdict.Refused("checksum database unavailable", timedOut: true)).Kind);
    }

    [Fact]
    public void Because_keeps_the_kind_and_reason()
    {
        var original = Outcome.Refused(ReasonKind.InvalidArtifact, "bad zip");
        var restated = original.Because("while checking: bad zip");
        Assert.Equal(OutcomeKind.Refused, restated.Kind);
        Assert.Equal(ReasonKind.InvalidArtifact, restated.Reason);
        Assert.Equal("while checking: bad zip", restated.Message);
        Assert.True(Outcome.Gone("g").IsNotFound);
        Assert.False(Outcome.Timeout("t").IsNotFound);
        Assert.True(Outcome.Timeout("t").IsOutage);
        Assert.False(Outcome.Refused(ReasonKind.SumDbUnverified, "r").IsOutage);
    }
}
