using System.Buffers.Binary;

namespace Yingyun.Fuzz;

/// <summary>Where a length field probably is: the header it belongs to starts at <see cref="Start"/> (truncation cuts
/// up to <see cref="CutSpan"/> bytes past it), the field itself at <see cref="At"/>, 2 or 4 bytes wide.</summary>
internal readonly record struct LengthField(int Start, int At, int Width, bool BigEndian, int CutSpan);

/// <summary>Blind mutations for machines without AFL (and for the regression tests): bit flips, byte inserts and
/// deletes, truncation, and length fields (found by the format's <see cref="LengthFields"/>) set to awkward
/// values. The same seed gives the same mutations on every machine (<see cref="Random(int)"/> is a fixed
/// algorithm).</summary>
internal abstract class SmokeMutatorBase(int seed)
{
    private readonly Random _rng = new(seed);

    /// <summary>The length fields of the format in <paramref name="data"/>, best guesses allowed.</summary>
    protected abstract List<LengthField> LengthFields(List<byte> data);

    /// <summary>One to four stacked mutations of <paramref name="input"/>; the result is a new array.</summary>
    public byte[] Mutate(byte[] input, out string description)
    {
        var data = new List<byte>(input);
        var steps = new List<string>();
        int count = 1 + _rng.Next(4);
        for (int i = 0; i < count; i++)
        {
            steps.Add(_rng.Next(10) switch
            {
                0 or 1 => FlipBits(data),
                2 => InsertBytes(data),
                3 => DeleteBytes(data),
                4 => Truncate(data),
                _ => TamperLength(data),
            });
        }
        description = string.Join("; ", steps);
        return [.. data];
    }

    private string FlipBits(List<byte> data)
    {
        if (data.Count == 0) return "flip: empty";
        int n = 1 + _rng.Next(4), at = _rng.Next(data.Count);
        for (int i = 0; i < n; i++)
        {
            int p = Math.Min(data.Count - 1, at + _rng.Next(8));
            data[p] ^= (byte)(1 << _rng.Next(8));
        }
        return $"flip {n} bits near {at}";
    }

    private string InsertBytes(List<byte> data)
    {
        int at = _rng.Next(data.Count + 1), n = 1 + _rng.Next(_rng.Next(2) == 0 ? 4 : 64);
        var bytes = new byte[n];
        if (_rng.Next(2) == 0) _rng.NextBytes(bytes);
        else if (data.Count > 0)
            for (int i = 0; i < n; i++) bytes[i] = data[(at + i) % data.Count]; // duplicate nearby bytes
        data.InsertRange(at, bytes);
        return $"insert {n} at {at}";
    }

    private string DeleteBytes(List<byte> data)
    {
        if (data.Count == 0) return "delete: empty";
        int at = _rng.Next(data.Count), n = Math.Min(data.Count - at, 1 + _rng.Next(_rng.Next(2) == 0 ? 4 : 64));
        data.RemoveRange(at, n);
        return $"delete {n} at {at}";
    }

    private string Truncate(List<byte> data)
    {
        if (data.Count == 0) return "truncate: empty";
        // Half of the time cut right inside a header or just after it.
        var fields = LengthFields(data);
        int at;
        if (fields.Count > 0 && _rng.Next(2) == 0)
        {
            var f = fields[_rng.Next(fields.Count)];
            at = Math.Min(data.Count, f.Start + _rng.Next(f.CutSpan));
        }
        else at = _rng.Next(data.Count);
        data.RemoveRange(at, data.Count - at);
        return $"truncate at {at}";
    }

    private string TamperLength(List<byte> data)
    {
        var fields = LengthFields(data);
        if (fields.Count == 0) return FlipBits(data);
        var h = fields[_rng.Next(fields.Count)];
        uint old = Read(data, h);
        uint remaining = (uint)Math.Max(0, data.Count - (h.At + h.Width));
        uint value = _rng.Next(14) switch
        {
            0 => 0,
            1 => 1,
            2 => old + 1,
            3 => old - 1,
            4 => old * 2,
            5 => remaining,
            6 => remaining + 1,
            7 => remaining + 2,
            8 => 0xFFFF,
            9 => 0xFFFFFFFF, // undefined length (0xFFFF for a 16-bit field)
            10 => 0xFFFFFFFE,
            11 => 0x7FFFFFFF,
            12 => 0x80000000,
            _ => (uint)_rng.Next(),
        };
        Write(data, h, value);
        return $"length at {h.At} ({h.Width} bytes{(h.BigEndian ? ", BE" : "")}) {old} -> {Read(data, h)}";
    }

    private static uint Read(List<byte> d, LengthField h)
    {
        Span<byte> b = stackalloc byte[4];
        for (int i = 0; i < h.Width; i++) b[i] = d[h.At + i];
        return h.Width == 2
            ? h.BigEndian ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b)
            : h.BigEndian ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);
    }

    private static void Write(List<byte> d, LengthField h, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        if (h.Width == 2)
        {
            if (h.BigEndian) BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)value); else BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value);
        }
        else if (h.BigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, value);
        else BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        for (int i = 0; i < h.Width; i++) d[h.At + i] = b[i];
    }
}
