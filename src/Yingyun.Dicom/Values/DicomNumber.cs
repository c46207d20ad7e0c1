using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Yingyun.Dicom;

/// <summary>Conversions between the numbers of the binary VRs (PS3.5 Table 6.2-1) and caller types.</summary>
internal static class DicomNumber
{
    /// <summary>Converts without losing the value: integers must fit, and a fractional number does not become an
    /// integer. Floating point targets accept rounding (reading an FD into a float is a deliberate choice).</summary>
    public static bool TryConvert<TFrom, TTo>(TFrom value, out TTo result)
        where TFrom : INumberBase<TFrom> where TTo : INumberBase<TTo>
    {
        if (typeof(TFrom) == typeof(TTo))
        {
            result = Unsafe.As<TFrom, TTo>(ref value);
            return true;
        }
        if (typeof(TTo) == typeof(double) || typeof(TTo) == typeof(float) || typeof(TTo) == typeof(Half))
        {
            result = TTo.CreateSaturating(value);
            return true;
        }
        result = TTo.Zero;
        if (TFrom.IsNaN(value) || TFrom.IsInfinity(value)) return false;
        if (typeof(TTo) == typeof(decimal) && (typeof(TFrom) == typeof(double) || typeof(TFrom) == typeof(float) || typeof(TFrom) == typeof(Half)))
        {
            // decimal cannot hold every double; within its range the nearest decimal is the answer.
            double d = double.CreateSaturating(value);
            if (Math.Abs(d) >= 7.9e28) return false;
            result = TTo.CreateSaturating(value);
            return true;
        }
        result = TTo.CreateSaturating(value);
        return TFrom.CreateSaturating(result) == value;
    }

    /// <summary>Whether <typeparamref name="T"/> is the type a value of <paramref name="vr"/> is made of.</summary>
    public static bool IsNativeType<T>(DicomVR vr) => vr switch
    {
        DicomVR.US or DicomVR.OW => typeof(T) == typeof(ushort),
        DicomVR.SS => typeof(T) == typeof(short),
        DicomVR.UL or DicomVR.OL => typeof(T) == typeof(uint),
        DicomVR.SL => typeof(T) == typeof(int),
        DicomVR.FL or DicomVR.OF => typeof(T) == typeof(float),
        DicomVR.FD or DicomVR.OD => typeof(T) == typeof(double),
        DicomVR.SV => typeof(T) == typeof(long),
        DicomVR.UV or DicomVR.OV => typeof(T) == typeof(ulong),
        DicomVR.OB or DicomVR.UN => typeof(T) == typeof(byte),
        _ => false,
    };

    /// <summary>Little-endian bytes of <paramref name="values"/> as <paramref name="vr"/>, padded to even length.</summary>
    public static byte[] Encode<T>(T[] values, DicomVR vr) where T : unmanaged, INumberBase<T>
    {
        int unit = vr.UnitSize();
        int size = Unsafe.SizeOf<T>();
        // "Other" VRs are bulk data: their bits are taken as given (signed pixels in OW, bytes for any of them).
        bool raw = IsNativeType<T>(vr)
            || (vr is DicomVR.OB or DicomVR.OW or DicomVR.OL or DicomVR.OV or DicomVR.UN && (unit == 1 || size == unit || typeof(T) == typeof(byte)));
        if (raw)
        {
            var source = MemoryMarshal.AsBytes(values.AsSpan());
            if (source.Length % unit != 0)
                throw new ArgumentException($"{source.Length} bytes is not a whole number of {vr.ToText()} values ({unit} bytes each)", nameof(values));
            var copy = new byte[source.Length + (source.Length & 1)];
            source.CopyTo(copy);
            return copy;
        }
        var bytes = new byte[values.Length * unit + (values.Length * unit & 1)];
        for (int i = 0; i < values.Length; i++)
        {
            var d = bytes.AsSpan(i * unit);
            var v = values[i];
            switch (vr)
            {
                case DicomVR.US or DicomVR.OW: BinaryPrimitives.WriteUInt16LittleEndian(d, Checked<T, ushort>(v, vr)); break;
                case DicomVR.SS: BinaryPrimitives.WriteInt16LittleEndian(d, Checked<T, short>(v, vr)); break;
                case DicomVR.UL or DicomVR.OL: BinaryPrimitives.WriteUInt32LittleEndian(d, Checked<T, uint>(v, vr)); break;
                case DicomVR.SL: BinaryPrimitives.WriteInt32LittleEndian(d, Checked<T, int>(v, vr)); break;
                case DicomVR.FL or DicomVR.OF: BinaryPrimitives.WriteSingleLittleEndian(d, float.CreateSaturating(v)); break;
                case DicomVR.FD or DicomVR.OD: BinaryPrimitives.WriteDoubleLittleEndian(d, double.CreateSaturating(v)); break;
                case DicomVR.SV: BinaryPrimitives.WriteInt64LittleEndian(d, Checked<T, long>(v, vr)); break;
                case DicomVR.UV or DicomVR.OV: BinaryPrimitives.WriteUInt64LittleEndian(d, Checked<T, ulong>(v, vr)); break;
                default: d[0] = Checked<T, byte>(v, vr); break; // OB, UN
            }
        }
        return bytes;
    }

    private static TTo Checked<TFrom, TTo>(TFrom value, DicomVR vr) where TFrom : INumberBase<TFrom> where TTo : INumberBase<TTo> =>
        TryConvert(value, out TTo r) ? r : throw new ArgumentOutOfRangeException(nameof(value), value, $"does not fit a {vr.ToText()} value ({typeof(TTo).Name})");
}
