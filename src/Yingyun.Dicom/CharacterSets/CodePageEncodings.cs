using System.Text;

namespace Yingyun.Dicom;

/// <summary>Code page encodings of the runtime. .NET only ships UTF-8, UTF-16, ASCII and Latin-1 by default;
/// GB18030 (54936), GBK (936), EUC-JP (20932), Korean (949) and GB 2312 (20936) come from
/// System.Text.Encoding.CodePages, part of the shared framework, once its provider is registered.</summary>
internal static class CodePageEncodings
{
    public const int Utf8 = 65001;
    public const int Gb18030 = 54936;
    public const int Gbk = 936;
    public const int EucJp = 20932;
    public const int Korean = 949;
    public const int Gb2312 = 20936;

    // Registration is process-wide and idempotent; the static constructor makes it happen exactly
    // once, before the first encoding is asked for.
    static CodePageEncodings() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>Runs the static constructor, if it has not run yet.</summary>
    public static void EnsureRegistered() { }

    /// <summary>Undecodable bytes become U+FFFD, unencodable characters '?' (U+FFFD for UTF-8, which can
    /// encode it; its shared instance keeps the vectorized paths of the runtime).</summary>
    public static Encoding Lenient(int codePage) => codePage == Utf8
        ? Encoding.UTF8
        : Encoding.GetEncoding(codePage, new EncoderReplacementFallback("?"), new DecoderReplacementFallback("\uFFFD"));

    /// <summary>Throws on the first unencodable character; used only to answer "can this be encoded?".</summary>
    public static Encoding Strict(int codePage) =>
        Encoding.GetEncoding(codePage, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
}

/// <summary>Decoder fallback that remembers the first invalid byte sequence and substitutes U+FFFD,
/// so a strict decode reports where the value is illegal without throwing.</summary>
internal sealed class FirstInvalidBytesFallback : DecoderFallback
{
    public int Index { get; private set; } = -1;
    public byte[]? Bytes { get; private set; }

    public override int MaxCharCount => 1;

    public override DecoderFallbackBuffer CreateFallbackBuffer() => new Buffer(this);

    private sealed class Buffer(FirstInvalidBytesFallback owner) : DecoderFallbackBuffer
    {
        private bool _pending;

        public override int Remaining => _pending ? 1 : 0;

        public override bool Fallback(byte[] bytesUnknown, int index)
        {
            if (owner.Index < 0)
            {
                owner.Index = Math.Max(index, 0);
                owner.Bytes = bytesUnknown;
            }
            _pending = true;
            return true;
        }

        public override char GetNextChar()
        {
            if (!_pending) return '\0';
            _pending = false;
            return '\uFFFD';
        }

        public override bool MovePrevious() => false;
    }
}
