using System.Buffers.Binary;

namespace Yingyun.Archive.EventLog;

/// <summary>
/// Chooses a partition from a key exactly as Kafka's Java client does (murmur2 of the key bytes,
/// sign bit cleared, modulo the partition count). The Kafka adapter sets librdkafka's
/// <c>murmur2_random</c> partitioner, which is the same function, so a study lands in the same
/// partition number on either stack and per-study ordering carries over.
/// </summary>
public static class KafkaPartitioner
{
    public static int Partition(ReadOnlySpan<byte> key, int partitionCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitionCount);
        return (Murmur2(key) & 0x7FFFFFFF) % partitionCount;
    }

    /// <summary>Kafka's <c>Utils.murmur2</c> (seed 0x9747b28c), bit for bit.</summary>
    public static int Murmur2(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        var length = data.Length;
        var h = 0x9747b28cu ^ (uint)length;
        var i = 0;
        for (; i + 4 <= length; i += 4)
        {
            var k = BinaryPrimitives.ReadUInt32LittleEndian(data[i..]);
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }

        switch (length & 3)
        {
            case 3:
                h ^= (uint)data[i + 2] << 16;
                h ^= (uint)data[i + 1] << 8;
                h ^= data[i];
                h *= m;
                break;
            case 2:
                h ^= (uint)data[i + 1] << 8;
                h ^= data[i];
                h *= m;
                break;
            case 1:
                h ^= data[i];
                h *= m;
                break;
        }

        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return unchecked((int)h);
    }
}
