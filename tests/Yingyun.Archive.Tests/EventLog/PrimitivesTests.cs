using System.Text;
using Yingyun.Archive.EventLog;

namespace Yingyun.Archive.Tests.EventLog;

public class PrimitivesTests
{
    [Fact]
    public void Crc32C_matches_the_published_check_values()
    {
        // "123456789" is the catalogue check value of CRC-32/ISCSI; 32 zero bytes is RFC 3720 B.4.
        Crc32C.Compute("123456789"u8).Should().Be(0xE3069283u);
        Crc32C.Compute(new byte[32]).Should().Be(0x8A9136AAu);
        Crc32C.Compute([]).Should().Be(0u);
    }

    [Fact]
    public void Crc32C_agrees_with_a_bitwise_reference_at_every_length_and_alignment()
    {
        var random = new Random(7);
        var data = new byte[300];
        random.NextBytes(data);
        for (var start = 0; start < 8; start++)
        {
            for (var length = 0; length + start <= data.Length; length += 13)
            {
                var span = data.AsSpan(start, length);
                Crc32C.Compute(span).Should().Be(BitwiseCrc32C(span), $"start {start}, length {length}");
            }
        }
    }

    /// <summary>The definition itself (reflected polynomial 0x82F63B78), one bit at a time.</summary>
    private static uint BitwiseCrc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }

        return ~crc;
    }

    [Theory]
    // Kafka's own test vectors (clients UtilsTest.testMurmur2).
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Murmur2_is_bit_for_bit_kafkas(string key, int expected) =>
        KafkaPartitioner.Murmur2(Encoding.ASCII.GetBytes(key)).Should().Be(expected);

    [Fact]
    public void Partition_is_the_positive_hash_modulo_the_count()
    {
        var key = "1.2.840.113619.2.55.3.604688119.868.1249291000.1"u8;
        var hash = KafkaPartitioner.Murmur2(key) & 0x7FFFFFFF;
        KafkaPartitioner.Partition(key, 4).Should().Be(hash % 4);
        KafkaPartitioner.Partition(key, 7).Should().Be(hash % 7);
    }

    [Theory]
    [InlineData("storage_queue", true)]
    [InlineData("a.b-c_D9", true)]
    [InlineData("", false)]
    [InlineData("..", false)]
    [InlineData("a/b", false)]
    [InlineData("a b", false)]
    [InlineData("影云", false)]
    public void Names_follow_kafkas_rule(string name, bool valid) => Topics.IsValidName(name).Should().Be(valid);

    [Fact]
    public void A_frame_round_trips_and_any_flipped_bit_is_caught()
    {
        var key = "k1"u8;
        var value = "value bytes"u8;
        var frame = new byte[RecordFrame.FrameSize(key.Length, value.Length)];
        RecordFrame.WriteBody(frame, key, value);
        RecordFrame.Seal(frame, 42, 1_700_000_000_123);

        RecordFrame.TryRead(frame, out var header, out var size).Should().Be(FrameStatus.Ok);
        size.Should().Be(frame.Length);
        header.Should().Be(new FrameHeader(42, 1_700_000_000_123, 2, value.Length));
        RecordFrame.TryRead(frame.AsSpan(0, frame.Length - 1), out _, out _).Should().Be(FrameStatus.Incomplete);

        for (var bit = 0; bit < frame.Length * 8; bit++)
        {
            var damaged = (byte[])frame.Clone();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            RecordFrame.TryRead(damaged, out _, out _).Should().NotBe(FrameStatus.Ok, $"bit {bit} was flipped");
        }
    }
}
