namespace Yingyun.Dicom;

/// <summary>How the reader treats a stream, large values and where it stops.</summary>
public sealed class DicomReaderOptions
{
    public static DicomReaderOptions Default { get; } = new();

    /// <summary>Stop at the first top-level element whose tag is at or after this one, leaving it and the
    /// rest unread (e.g. <see cref="DicomTag.PixelDataTag"/> for the ingest hot path).</summary>
    public DicomTag? StopBeforeTag { get; init; }

    /// <summary>Values (and fragments) longer than this stay where they are as a <see cref="BulkDataReference"/>
    /// when the bytes can be read again later: a seekable file, or <see cref="BulkDataSource"/>.</summary>
    public int BulkDataThreshold { get; init; } = 64 * 1024;

    /// <summary>For a stream that cannot be read again (a network stream) but whose bytes are also being
    /// written somewhere (a temporary file), the place where position 0 of the stream can be found again;
    /// large values then become references into it instead of being buffered.</summary>
    public IBulkDataSource? BulkDataSource { get; init; }

    /// <summary>Offset in <see cref="BulkDataSource"/> of the stream's first byte.</summary>
    public long BulkDataSourceOffset { get; init; }

    /// <summary>The longest value that may be loaded into memory; a longer one that cannot be referenced is a
    /// read error, never a huge allocation driven by a peer's length field.</summary>
    public long MaxInMemoryValueLength { get; init; } = 512L * 1024 * 1024;

    /// <summary>How deeply sequences may nest (a top-level sequence is depth 1). A sequence deeper than this is a
    /// fatal problem and reading stops there: nesting is read recursively, and a hostile input of thousands of
    /// nested sequences would otherwise overflow the stack. Real data sets nest a handful of levels (structured
    /// reports a few dozen at most).</summary>
    public int MaxSequenceDepth { get; init; } = 64;

    /// <summary>Transfer syntax of a bare data set (no File Meta Information), when the caller knows it
    /// (DIMSE: the presentation context's). Null: guess from the first bytes as DCMTK and pydicom do.</summary>
    public DicomTransferSyntax? TransferSyntax { get; init; }
}
