namespace Yingyun.Dimse;

/// <summary>The data set of the message being received, read straight from the connection PDV by PDV (PS3.8 §E.2):
/// nothing is buffered beyond the transport pipe. Valid only while the handler it was given to runs.</summary>
internal sealed class DimseDataStream(DicomAssociation association) : Stream
{
    private DicomAssociation? _association = association;
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException("a received data set's length is known only at its last fragment");

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    private DicomAssociation Association => _association ?? throw new ObjectDisposedException(nameof(DimseDataStream), "the data set stream is only valid while its handler runs");

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        int n = await Association.ReadDataSetAsync(buffer).ConfigureAwait(false);
        _position += n;
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        await Association.CopyDataSetAsync(new CountingStream(destination, n => _position += n), cancellationToken).ConfigureAwait(false);
    }

    // Synchronous reads would block a thread on the network; the receive path is asynchronous only.
    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("read the DIMSE data set with ReadAsync or CopyToAsync");

    public override int Read(Span<byte> buffer) =>
        throw new NotSupportedException("read the DIMSE data set with ReadAsync or CopyToAsync");

    public override void CopyTo(Stream destination, int bufferSize) =>
        throw new NotSupportedException("read the DIMSE data set with ReadAsync or CopyToAsync");

    internal void Detach() => _association = null;

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Counts what CopyToAsync writes, so that Position stays true.</summary>
    private sealed class CountingStream(Stream inner, Action<int> written) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            written(buffer.Length);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            written(count);
        }

        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
