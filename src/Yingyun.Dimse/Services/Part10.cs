using System.Buffers.Binary;
using System.Text;
using Yingyun.Dicom;

namespace Yingyun.Dimse;

/// <summary>What a C-STORE SCU needs from a Part 10 file before sending it: the SOP class and instance, the transfer
/// syntax and where the data set starts. Only the File Meta Information is read (PS3.10 §7.1), never the data set.</summary>
public sealed record Part10Header(string SopClassUid, string SopInstanceUid, DicomTransferSyntax TransferSyntax, long DataSetOffset)
{
    /// <summary>The File Meta Information is small; a bigger group 0002 is not a sane file.</summary>
    private const int MaximumMetaLength = 64 * 1024;

    /// <summary>Reads the preamble, "DICM" and group 0002 (always explicit VR little endian, PS3.10 §7.1), then the
    /// data set's own SOP Class and Instance UIDs (0008,0016)/(0008,0018), and leaves <paramref name="stream"/> (which
    /// must be seekable) positioned at the first byte of the data set. Where the data set and the File Meta
    /// Information disagree (it happens: pydicom's rtplan.dcm), the data set wins: it is what the receiver parses,
    /// and PS3.7 §9.1.1 makes the Affected SOP Instance UID that of the instance.</summary>
    public static async Task<Part10Header> ReadAsync(Stream stream, string? source = null, CancellationToken cancellationToken = default)
    {
        var bytes = new byte[132 + MaximumMetaLength];
        int have = 0;
        while (have < bytes.Length)
        {
            int n = await stream.ReadAsync(bytes.AsMemory(have), cancellationToken).ConfigureAwait(false);
            if (n == 0) break;
            have += n;
        }
        var header = Parse(bytes.AsSpan(0, have), source);
        stream.Position = header.DataSetOffset;
        try
        {
            var options = new DicomReaderOptions { StopBeforeTag = new DicomTag(0x0008, 0x0019), TransferSyntax = header.TransferSyntax };
            var start = await DicomReader.ReadDatasetAsync(stream, header.TransferSyntax, options, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (GetUid(start, DicomTags.SOPClassUID) is { } sopClass) header = header with { SopClassUid = sopClass };
            if (GetUid(start, DicomTags.SOPInstanceUID) is { } sopInstance) header = header with { SopInstanceUid = sopInstance };
        }
        catch (DicomReadException)
        {
            // The meta's values stand; whoever parses the data set will report its damage.
        }
        stream.Position = header.DataSetOffset;
        return header;
    }

    private static string? GetUid(DicomDataset dataset, DicomTag tag) =>
        dataset.TryGetElement(tag, out var e) && e.Value.IsInMemory && e.Length > 0 ? Text(e.Span) : null;

    public static async Task<Part10Header> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.Asynchronous);
        return await ReadAsync(stream, path, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Parses the File Meta Information only (the SOP UIDs are the meta's).</summary>
    public static Part10Header Parse(ReadOnlySpan<byte> bytes, string? source = null)
    {
        string where = source ?? "stream";
        if (bytes.Length < 132 || !bytes.Slice(128, 4).SequenceEqual("DICM"u8))
            throw new DicomReadException($"{where} is not a DICOM Part 10 file (no \"DICM\" after the 128-byte preamble, PS3.10 §7.1)");
        string? sopClass = null, sopInstance = null, transferSyntax = null;
        int at = 132;
        while (bytes.Length - at >= 8 && BinaryPrimitives.ReadUInt16LittleEndian(bytes[at..]) == 0x0002)
        {
            var tag = new DicomTag(0x0002, BinaryPrimitives.ReadUInt16LittleEndian(bytes[(at + 2)..]));
            var vr = DicomVRInfo.FromBytes(bytes[at + 4], bytes[at + 5]);
            int headerLength;
            uint length;
            if (vr.HasLongLength())
            {
                if (bytes.Length - at < 12) break;
                length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(at + 8)..]);
                headerLength = 12;
            }
            else
            {
                length = BinaryPrimitives.ReadUInt16LittleEndian(bytes[(at + 6)..]);
                headerLength = 8;
            }
            if (length > (uint)(bytes.Length - at - headerLength))
                throw new DicomReadException($"{where}: File Meta Information element runs past {bytes.Length} bytes", at, tag);
            var value = bytes.Slice(at + headerLength, (int)length);
            if (tag.Element == 0x0002) sopClass = Text(value);
            else if (tag.Element == 0x0003) sopInstance = Text(value);
            else if (tag.Element == 0x0010) transferSyntax = Text(value);
            at += headerLength + (int)length;
        }
        if (string.IsNullOrEmpty(sopClass) || string.IsNullOrEmpty(sopInstance) || string.IsNullOrEmpty(transferSyntax))
            throw new DicomReadException($"{where}: File Meta Information lacks Media Storage SOP Class/Instance UID or Transfer Syntax UID (PS3.10 §7.1)");
        return new Part10Header(sopClass, sopInstance, DicomTransferSyntax.Parse(transferSyntax), at);
    }

    private static string Text(ReadOnlySpan<byte> value) => Encoding.ASCII.GetString(value).TrimEnd('\0', ' ');

    /// <summary>Builds a File Meta Information block with its preamble (PS3.10 §7.1): what a C-STORE SCP writes in
    /// front of the received data set bytes to make a Part 10 file.</summary>
    public static byte[] BuildFileMetaInformation(string sopClassUid, string sopInstanceUid, string transferSyntaxUid, string? sourceAeTitle)
    {
        var elements = new MemoryStream(256);
        WriteElement(elements, 0x0001, DicomVR.OB, [0x00, 0x01]);
        WriteText(elements, 0x0002, DicomVR.UI, sopClassUid);
        WriteText(elements, 0x0003, DicomVR.UI, sopInstanceUid);
        WriteText(elements, 0x0010, DicomVR.UI, transferSyntaxUid);
        WriteText(elements, 0x0012, DicomVR.UI, Implementation.ClassUid);
        WriteText(elements, 0x0013, DicomVR.SH, Implementation.VersionName);
        if (!string.IsNullOrWhiteSpace(sourceAeTitle)) WriteText(elements, 0x0016, DicomVR.AE, sourceAeTitle.Trim());

        var file = new MemoryStream(132 + 12 + (int)elements.Length);
        file.Write(new byte[128]);
        file.Write("DICM"u8);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)elements.Length);
        // (0002,0000) File Meta Information Group Length, UL: the bytes after this element up to the data set.
        WriteElement(file, 0x0000, DicomVR.UL, length);
        elements.Position = 0;
        elements.CopyTo(file);
        return file.ToArray();
    }

    private static void WriteText(Stream s, ushort element, DicomVR vr, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        if ((bytes.Length & 1) == 1)
        {
            Array.Resize(ref bytes, bytes.Length + 1);
            bytes[^1] = vr.PaddingByte();
        }
        WriteElement(s, element, vr, bytes);
    }

    private static void WriteElement(Stream s, ushort element, DicomVR vr, ReadOnlySpan<byte> value)
    {
        Span<byte> header = stackalloc byte[12];
        BinaryPrimitives.WriteUInt16LittleEndian(header, 0x0002);
        BinaryPrimitives.WriteUInt16LittleEndian(header[2..], element);
        header[4] = (byte)((ushort)vr >> 8);
        header[5] = (byte)vr;
        if (vr.HasLongLength())
        {
            header[6] = header[7] = 0;
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], (uint)value.Length);
            s.Write(header);
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(header[6..], (ushort)value.Length);
            s.Write(header[..8]);
        }
        s.Write(value);
    }
}
