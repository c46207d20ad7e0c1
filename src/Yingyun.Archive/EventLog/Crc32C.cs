using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ArmCrc = System.Runtime.Intrinsics.Arm.Crc32;
using X86Sse42 = System.Runtime.Intrinsics.X86.Sse42;

namespace Yingyun.Archive.EventLog;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum Kafka, ext4 and iSCSI use.
/// </summary>
/// <remarks>
/// Written here because the released System.IO.Hashing (10.x) only has the IEEE CRC-32; its
/// parameterised CRC-32C arrives with .NET 11. The CPU's CRC32 instruction (SSE4.2 on x86,
/// the CRC extension on Arm64) computes exactly this polynomial, 8 bytes per step; the table
/// path (slicing-by-8) is for CPUs without it.
/// </remarks>
internal static class Crc32C
{
    private const uint Polynomial = 0x82F63B78u;

    private static readonly uint[] Table = BuildTable();

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(0xFFFFFFFFu, data);

    /// <summary>Continues a running CRC (pre-inverted state, as in <see cref="Compute"/>).</summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        if (X86Sse42.X64.IsSupported)
        {
            return UpdateSse42(crc, data);
        }

        if (ArmCrc.Arm64.IsSupported)
        {
            return UpdateArm64(crc, data);
        }

        return UpdateSoftware(crc, data);
    }

    /// <summary>The table implementation, reachable on any CPU so tests can compare the two.</summary>
    internal static uint ComputeSoftware(ReadOnlySpan<byte> data) => ~UpdateSoftware(0xFFFFFFFFu, data);

    private static uint UpdateSse42(uint crc, ReadOnlySpan<byte> data)
    {
        ulong state = crc;
        ref var start = ref MemoryMarshal.GetReference(data);
        var i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            state = X86Sse42.X64.Crc32(state, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i)));
        }

        var c = (uint)state;
        for (; i < data.Length; i++)
        {
            c = X86Sse42.Crc32(c, Unsafe.Add(ref start, i));
        }

        return c;
    }

    private static uint UpdateArm64(uint crc, ReadOnlySpan<byte> data)
    {
        ref var start = ref MemoryMarshal.GetReference(data);
        var i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            crc = ArmCrc.Arm64.ComputeCrc32C(crc, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i)));
        }

        for (; i < data.Length; i++)
        {
            crc = ArmCrc.ComputeCrc32C(crc, Unsafe.Add(ref start, i));
        }

        return crc;
    }

    private static uint UpdateSoftware(uint crc, ReadOnlySpan<byte> data)
    {
        var table = Table;
        var i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            var lo = BinaryPrimitives.ReadUInt32LittleEndian(data[i..]) ^ crc;
            var hi = BinaryPrimitives.ReadUInt32LittleEndian(data[(i + 4)..]);
            crc = table[(7 * 256) + (lo & 0xFF)] ^ table[(6 * 256) + ((lo >> 8) & 0xFF)]
                ^ table[(5 * 256) + ((lo >> 16) & 0xFF)] ^ table[(4 * 256) + (lo >> 24)]
                ^ table[(3 * 256) + (hi & 0xFF)] ^ table[(2 * 256) + ((hi >> 8) & 0xFF)]
                ^ table[256 + ((hi >> 16) & 0xFF)] ^ table[hi >> 24];
        }

        for (; i < data.Length; i++)
        {
            crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    private static uint[] BuildTable()
    {
        // Slicing-by-8: table k maps a byte that is k positions further back in the stream.
        var table = new uint[8 * 256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }

            table[n] = c;
        }

        for (var n = 0; n < 256; n++)
        {
            for (var k = 1; k < 8; k++)
            {
                var prev = table[((k - 1) * 256) + n];
                table[(k * 256) + n] = table[prev & 0xFF] ^ (prev >> 8);
            }
        }

        return table;
    }
}
