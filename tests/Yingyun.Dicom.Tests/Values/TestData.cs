using System.Text;

namespace Yingyun.Dicom.Tests.Values;

/// <summary>Builds data sets from raw value bytes, as a reader would leave them (padding included).</summary>
internal static class TestData
{
    public static DicomDataset With(DicomTag tag, DicomVR vr, string raw) =>
        new DicomDataset().AddOrUpdate(new DicomElement(tag, vr, Encoding.Latin1.GetBytes(raw)));

    public static DicomDataset WithBytes(DicomTag tag, DicomVR vr, params byte[] bytes) =>
        new DicomDataset().AddOrUpdate(new DicomElement(tag, vr, bytes));

    public static string Raw(DicomDataset ds, DicomTag tag) =>
        ds.TryGetElement(tag, out var e) ? Encoding.Latin1.GetString(e.Span) : throw new KeyNotFoundException(tag.ToString());
}
