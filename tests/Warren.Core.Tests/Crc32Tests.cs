using Warren.Core.Modules;

namespace Warren.Core.Tests;

public sealed class Crc32Tests
{
    [Fact]
    public void Native_and_managed_crc32_agree_with_the_standard_check_value_and_each_other()
    {
        // The CRC-32/ISO-HDLC check value of "123456789".
        var check = new Crc32Ieee();
        check.Append("123456789"u8);
        Assert.Equal(0xCBF43926u, check.Value);

        var random = new Random(7);
        foreach (var length in new[] { 0, 1, 7, 8, 9, 63, 64, 65, 4096, 100_003 })
        {
            var data = new byte[length];
            random.NextBytes(data);
            var native = new Crc32Ieee();
            var managed = new Crc32Ieee();
            // Appended in uneven pieces, so both carry state across calls.
            for (var i = 0; i < length; i += 1000)
            {
                native.Append(data.AsSpan(i, Math.Min(1000, length - i)));
            }

            managed.AppendManaged(data);
            Assert.Equal(managed.Value, native.Value);
        }

        Assert.True(Crc32Ieee.UsesNative, "the runtime's crc32 could not be called; the slow path is in use");
    }
}
