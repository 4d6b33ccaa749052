using Warren.Core.Limits;

namespace Warren.Core.Tests.Limits;

public sealed class ByteSizeTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("4096", 4096L)]
    [InlineData("512B", 512L)]
    [InlineData("64k", 64L << 10)]
    [InlineData("500M", 500L << 20)]
    [InlineData("500MB", 500L << 20)]
    [InlineData("500MiB", 500L << 20)]
    [InlineData("20G", 20L << 30)]
    [InlineData(" 20 g ", 20L << 30)]
    [InlineData("1.5G", 3L << 29)]
    [InlineData("2T", 2L << 40)]
    [InlineData("1P", 1L << 50)]
    public void Parses_sizes_with_binary_units(string text, long expected)
    {
        Assert.True(ByteSize.TryParse(text, out var bytes, out var error), error);
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("", "empty size")]
    [InlineData("  ", "empty size")]
    [InlineData("G", "want a number")]
    [InlineData("-1G", "want a number")]
    [InlineData("+1G", "want a number")]
    [InlineData("20X", "want a number")]
    [InlineData("20 GG", "want a number")]
    [InlineData("5iB", "want a number")]
    [InlineData("1e3", "want a number")]
    [InlineData("99999999P", "too large")]
    public void Refuses_what_is_not_a_size(string text, string reason)
    {
        Assert.False(ByteSize.TryParse(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(512L, "512B")]
    [InlineData(1L << 10, "1K")]
    [InlineData(3L << 29, "1.5G")]
    [InlineData(20L << 30, "20G")]
    public void Formats_short(long bytes, string expected) => Assert.Equal(expected, ByteSize.Format(bytes));
}
