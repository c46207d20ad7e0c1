using System.Diagnostics.CodeAnalysis;

namespace Yingyun.Dicom;

/// <summary>A value known only by its Bulk Data URI (PS3.18 §F.2.6), as <see cref="DicomJsonReader"/> reads it:
/// the element's value is a <see cref="BulkDataReference"/> to this source. Its bytes are not fetched here (that is
/// DICOMweb's business): <see cref="ResolveAsync"/> swaps them in once a caller can retrieve them.
/// <see cref="DicomJsonWriter"/> writes such a value back as the same URI.</summary>
/// <remarks>The length of the value is not known before it is retrieved, so the reference's length is
/// <see cref="UnknownLength"/>. That value is chosen to make every consumer fail loudly rather than write a wrong
/// length: loading or copying the reference ends in this source's "not retrieved" error, and
/// <see cref="DicomWriter"/> refuses it as over the 32-bit length limit.</remarks>
public sealed class DicomJsonBulkDataUri : IBulkDataSource
{
    /// <summary>The <see cref="BulkDataReference.Length"/> of a value that has not been retrieved.</summary>
    public const long UnknownLength = long.MaxValue;

    public DicomJsonBulkDataUri(string uri) => Uri = uri;

    /// <summary>The URI as given in the JSON; a relative one is relative to the resource the JSON came from.</summary>
    public string Uri { get; }

    public string Description => $"bulk data URI {Uri}";

    public ValueTask<int> ReadAtAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException($"the value at bulk data URI {Uri} has not been retrieved; resolve it with {nameof(DicomJsonBulkDataUri)}.{nameof(ResolveAsync)} first");

    /// <summary>An element value that stands for the bytes at <paramref name="uri"/>.</summary>
    public static DicomValue CreateValue(string uri) => new(new BulkDataReference(new DicomJsonBulkDataUri(uri), 0, UnknownLength));

    /// <summary>The URI if <paramref name="value"/> stands for bytes behind a Bulk Data URI not yet retrieved.</summary>
    public static bool TryGetUri(DicomValue value, [NotNullWhen(true)] out string? uri)
    {
        uri = (value.Reference?.Source as DicomJsonBulkDataUri)?.Uri;
        return uri is not null;
    }

    /// <summary>Replaces every value of <paramref name="dataset"/> (items included) that is a Bulk Data URI by the
    /// bytes <paramref name="retrieve"/> returns for it (little endian, as InlineBinary would hold them, PS3.18
    /// §F.2.7). Bytes for encapsulated Pixel Data that form whole items become fragments again, as
    /// <see cref="DicomJsonReader"/> does for InlineBinary. Returns the number of values replaced.</summary>
    public static async Task<int> ResolveAsync(DicomDataset dataset, Func<string, CancellationToken, ValueTask<ReadOnlyMemory<byte>>> retrieve, CancellationToken cancellationToken = default)
    {
        int replaced = 0;
        List<DicomItem>? changes = null;
        foreach (var item in dataset)
        {
            switch (item)
            {
                case DicomSequence sq:
                    foreach (var child in sq.Items)
                        replaced += await ResolveAsync(child, retrieve, cancellationToken).ConfigureAwait(false);
                    break;
                case DicomElement e when TryGetUri(e.Value, out var uri):
                    var bytes = await retrieve(uri, cancellationToken).ConfigureAwait(false);
                    (changes ??= []).Add(DicomJsonReader.CreateBinaryItem(e.Tag, e.VR, bytes));
                    break;
            }
        }
        if (changes is null) return replaced;
        foreach (var c in changes) dataset.AddOrUpdate(c);
        return replaced + changes.Count;
    }

    /// <summary>The provider behind <c>yingyun dump --json</c>: values of the binary VRs (OB, OD, OF, OL, OV, OW, UN)
    /// and encapsulated Pixel Data longer than <paramref name="threshold"/> bytes become
    /// <c>bulkdata:&lt;path&gt;</c>, with the path as <see cref="DicomJsonPath.ToString"/> writes it
    /// (<c>bulkdata:7FE00010</c>, <c>bulkdata:00540016/0/00181074</c>). "bulkdata" is no registered scheme: the URI
    /// names the value for a person reading the dump and retrieves nothing. A value that already is a Bulk Data URI
    /// keeps its own.</summary>
    public static BulkDataUriProvider PlaceholderProvider(long threshold) => (path, item, length) =>
        length > threshold && (item is DicomFragmentSequence || DicomJsonWriter.IsBinaryVR(item.VR))
            && !(item is DicomElement e && TryGetUri(e.Value, out _))
            ? PlaceholderScheme + ":" + path.ToString()
            : null;

    /// <summary>The scheme of <see cref="PlaceholderProvider"/>'s URIs.</summary>
    public const string PlaceholderScheme = "bulkdata";
}
