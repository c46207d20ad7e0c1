namespace Yingyun.Dicom;

/// <summary>The validator's one dependency on the character set code, kept in one place because
/// <see cref="DicomCharacterSet"/> is being completed concurrently: once it has
/// <c>TryDecodeStrict(ReadOnlySpan&lt;byte&gt;, DicomVR, out string)</c>, call that here instead.</summary>
internal static class DicomCharacterSetAdapter
{
    /// <summary>Decodes <paramref name="value"/>; false when some bytes are not characters of the declared set. Until a
    /// strict decoder exists, a replacement character (U+FFFD) in the output stands for undecodable input.</summary>
    public static bool TryDecodeStrict(DicomCharacterSet characterSet, ReadOnlySpan<byte> value, DicomVR vr, out string text)
    {
        try
        {
            text = characterSet.Decode(value, vr);
        }
        catch (ArgumentException)
        {
            // DecoderFallbackException derives from ArgumentException.
            text = System.Text.Encoding.Latin1.GetString(value);
            return false;
        }
        return !text.Contains('\uFFFD', StringComparison.Ordinal);
    }
}
