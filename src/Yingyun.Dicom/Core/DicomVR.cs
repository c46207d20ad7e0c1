namespace Yingyun.Dicom;

/// <summary>Value representations of PS3.5 §6.2. Each value is the VR's two ASCII characters packed
/// big-endian into 16 bits, so that an explicit-VR header is decoded with one shift and no lookup.</summary>
public enum DicomVR : ushort
{
    None = 0,
    AE = 0x4145, AS = 0x4153, AT = 0x4154, CS = 0x4353, DA = 0x4441, DS = 0x4453, DT = 0x4454,
    FD = 0x4644, FL = 0x464C, IS = 0x4953, LO = 0x4C4F, LT = 0x4C54, OB = 0x4F42, OD = 0x4F44,
    OF = 0x4F46, OL = 0x4F4C, OV = 0x4F56, OW = 0x4F57, PN = 0x504E, SH = 0x5348, SL = 0x534C,
    SQ = 0x5351, SS = 0x5353, ST = 0x5354, SV = 0x5356, TM = 0x544D, UC = 0x5543, UI = 0x5549,
    UL = 0x554C, UN = 0x554E, UR = 0x5552, US = 0x5553, UT = 0x5554, UV = 0x5556,
}

public static class DicomVRInfo
{
    /// <summary>Whether two bytes from an explicit-VR header name a VR of PS3.5 Table 6.2-1.</summary>
    public static bool IsKnown(this DicomVR vr) => vr switch
    {
        DicomVR.AE or DicomVR.AS or DicomVR.AT or DicomVR.CS or DicomVR.DA or DicomVR.DS or DicomVR.DT or
        DicomVR.FD or DicomVR.FL or DicomVR.IS or DicomVR.LO or DicomVR.LT or DicomVR.OB or DicomVR.OD or
        DicomVR.OF or DicomVR.OL or DicomVR.OV or DicomVR.OW or DicomVR.PN or DicomVR.SH or DicomVR.SL or
        DicomVR.SQ or DicomVR.SS or DicomVR.ST or DicomVR.SV or DicomVR.TM or DicomVR.UC or DicomVR.UI or
        DicomVR.UL or DicomVR.UN or DicomVR.UR or DicomVR.US or DicomVR.UT or DicomVR.UV => true,
        _ => false,
    };

    public static DicomVR FromBytes(byte first, byte second) => (DicomVR)((first << 8) | second);

    public static bool TryParse(ReadOnlySpan<char> text, out DicomVR vr)
    {
        vr = DicomVR.None;
        if (text.Length != 2 || text[0] > 0x7F || text[1] > 0x7F) return false;
        vr = FromBytes((byte)text[0], (byte)text[1]);
        return vr.IsKnown();
    }

    public static DicomVR Parse(string text) =>
        TryParse(text, out var vr) ? vr : throw new FormatException($"'{text}' is not a DICOM value representation");

    /// <summary>VRs whose explicit-VR header has 2 reserved bytes and a 32-bit length (PS3.5 §7.1.2).</summary>
    public static bool HasLongLength(this DicomVR vr) => vr is DicomVR.OB or DicomVR.OD or DicomVR.OF or
        DicomVR.OL or DicomVR.OV or DicomVR.OW or DicomVR.SQ or DicomVR.UC or DicomVR.UN or DicomVR.UR or
        DicomVR.UT or DicomVR.SV or DicomVR.UV;

    /// <summary>Character string VRs (values are text, padded with a space except UI).</summary>
    public static bool IsString(this DicomVR vr) => vr is DicomVR.AE or DicomVR.AS or DicomVR.CS or
        DicomVR.DA or DicomVR.DS or DicomVR.DT or DicomVR.IS or DicomVR.LO or DicomVR.LT or DicomVR.PN or
        DicomVR.SH or DicomVR.ST or DicomVR.TM or DicomVR.UC or DicomVR.UI or DicomVR.UR or DicomVR.UT;

    /// <summary>VRs whose values are decoded with Specific Character Set (PS3.5 §6.1.2.3); all other
    /// string VRs use the default repertoire.</summary>
    public static bool IsCharacterSetDependent(this DicomVR vr) => vr is DicomVR.SH or DicomVR.LO or
        DicomVR.UC or DicomVR.ST or DicomVR.LT or DicomVR.UT or DicomVR.PN;

    /// <summary>Text VRs that hold exactly one value: backslash is an ordinary character (PS3.5 §6.4).</summary>
    public static bool IsSingleValuedText(this DicomVR vr) => vr is DicomVR.LT or DicomVR.ST or DicomVR.UT or DicomVR.UR;

    /// <summary>Byte used to pad a value to even length (PS3.5 §6.2): NUL for UI and binary, space for text.</summary>
    public static byte PaddingByte(this DicomVR vr) => vr.IsString() && vr != DicomVR.UI ? (byte)' ' : (byte)0;

    /// <summary>Size of one binary unit, used to swap bytes between little and big endian. 1 for text,
    /// OB and UN (never swapped).</summary>
    public static int UnitSize(this DicomVR vr) => vr switch
    {
        DicomVR.US or DicomVR.SS or DicomVR.OW or DicomVR.AT => 2,
        DicomVR.UL or DicomVR.SL or DicomVR.FL or DicomVR.OF or DicomVR.OL => 4,
        DicomVR.FD or DicomVR.OD or DicomVR.OV or DicomVR.SV or DicomVR.UV => 8,
        _ => 1,
    };

    /// <summary>Maximum value length in bytes for string VRs with a limit (PS3.5 Table 6.2-1); 0 = unbounded by VR.</summary>
    public static int MaxLength(this DicomVR vr) => vr switch
    {
        DicomVR.AE => 16, DicomVR.AS => 4, DicomVR.CS => 16, DicomVR.DA => 8, DicomVR.DS => 16,
        DicomVR.DT => 26, DicomVR.IS => 12, DicomVR.LO => 64, DicomVR.LT => 10240, DicomVR.PN => 64 * 3 + 2,
        DicomVR.SH => 16, DicomVR.ST => 1024, DicomVR.TM => 14, DicomVR.UI => 64,
        _ => 0,
    };

    public static string ToText(this DicomVR vr) =>
        vr == DicomVR.None ? "--" : string.Create(2, vr, static (s, v) => { s[0] = (char)((ushort)v >> 8); s[1] = (char)((ushort)v & 0xFF); });
}
