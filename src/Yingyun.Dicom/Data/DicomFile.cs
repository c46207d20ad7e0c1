namespace Yingyun.Dicom;

/// <summary>A DICOM file (PS3.10 §7): a 128-byte preamble, "DICM", the File Meta Information
/// (group 0002, always explicit VR little endian) and the data set in its transfer syntax.</summary>
public sealed class DicomFile(DicomDataset fileMetaInformation, DicomDataset dataset)
{
    public DicomDataset FileMetaInformation { get; } = fileMetaInformation;
    public DicomDataset Dataset { get; } = dataset;

    /// <summary>The 128-byte preamble as read (null for a bare data set without one).</summary>
    public byte[]? Preamble { get; set; }

    /// <summary>The syntax the data set was read in (or will be written in).</summary>
    public DicomTransferSyntax TransferSyntax { get; set; } = DicomTransferSyntax.ExplicitVRLittleEndian;

    /// <summary>Problems found while reading: damage the reader worked around, with offsets and tags.</summary>
    public List<DicomReadProblem> Problems { get; } = [];

    /// <summary>Where the bytes came from (a path), for messages.</summary>
    public string? Source { get; set; }
}

/// <summary>Something wrong in the bytes that the reader noted and worked around (or stopped at).</summary>
public sealed record DicomReadProblem(long Offset, DicomTag? Tag, string Message, bool IsFatal = false)
{
    public override string ToString() => Tag is { } t ? $"offset {Offset} {t}: {Message}" : $"offset {Offset}: {Message}";
}

/// <summary>Thrown when bytes cannot be read as DICOM at all (no usable element at the start).</summary>
public sealed class DicomReadException : Exception
{
    public DicomReadException(string message, long offset, DicomTag? tag = null)
        : base(tag is { } t ? $"offset {offset} {t}: {message}" : $"offset {offset}: {message}")
    {
        Offset = offset;
        Tag = tag;
    }

    public DicomReadException() { }
    public DicomReadException(string message) : base(message) { }
    public DicomReadException(string message, Exception inner) : base(message, inner) { }

    public long Offset { get; }
    public DicomTag? Tag { get; }
}
