using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Yingyun.Dicom;

namespace Yingyun.Dimse.Tests.Infrastructure;

internal sealed record RawPdu(PduType Type, byte[] Body)
{
    public AbortPdu Abort => Type == PduType.Abort ? PduDecoder.DecodeAbort(Body) : throw new InvalidOperationException($"{Type}, not A-ABORT");
    public AssociateReject Reject => Type == PduType.AssociateReject ? PduDecoder.DecodeAssociateReject(Body) : throw new InvalidOperationException($"{Type}, not A-ASSOCIATE-RJ");
    public AssociateAccept Accept => Type == PduType.AssociateAccept ? PduDecoder.DecodeAssociateAccept(Body) : throw new InvalidOperationException($"{Type}, not A-ASSOCIATE-AC");
    public AssociateRequest Request => Type == PduType.AssociateRequest ? PduDecoder.DecodeAssociateRequest(Body) : throw new InvalidOperationException($"{Type}, not A-ASSOCIATE-RQ");

    /// <summary>The PDV items of a P-DATA-TF: (context ID, message control header, data).</summary>
    public IEnumerable<(byte ContextId, byte Control, byte[] Data)> Pdvs()
    {
        int at = 0;
        while (at < Body.Length)
        {
            int length = (int)BinaryPrimitives.ReadUInt32BigEndian(Body.AsSpan(at));
            yield return (Body[at + 4], Body[at + 5], Body[(at + 6)..(at + 4 + length)]);
            at += 4 + length;
        }
    }

    public override string ToString() => Type switch
    {
        PduType.Abort => $"A-ABORT {Abort}",
        PduType.AssociateReject => $"A-ASSOCIATE-RJ {Reject}",
        _ => $"{Type} ({Body.Length} bytes)",
    };
}

/// <summary>A hand-driven peer that writes and reads raw PDUs, to put the server (or client) through inputs a
/// well-behaved implementation never sends.</summary>
internal sealed class RawPeer : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly CancellationTokenSource _guard = new(TimeSpan.FromSeconds(60));

    private RawPeer(Socket socket)
    {
        socket.NoDelay = true;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public static async Task<RawPeer> ConnectAsync(int port)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        return new RawPeer(socket);
    }

    public static async Task<RawPeer> AcceptAsync(TcpListener listener) => new(await listener.AcceptSocketAsync());

    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        await _stream.WriteAsync(bytes, _guard.Token);
        await _stream.FlushAsync(_guard.Token);
    }

    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>The next whole PDU, or null when the other side closed (or reset) the connection.</summary>
    public async Task<RawPdu?> ReadPduAsync()
    {
        var header = new byte[6];
        if (!await ReadExactlyAsync(header)) return null;
        var body = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(2))];
        if (!await ReadExactlyAsync(body)) return null;
        return new RawPdu((PduType)header[0], body);
    }

    public async Task<RawPdu> ExpectPduAsync(PduType type)
    {
        var pdu = await ReadPduAsync();
        pdu.Should().NotBeNull($"a {type} PDU was expected before the connection closed");
        pdu!.Type.Should().Be(type, pdu.ToString());
        return pdu;
    }

    /// <summary>Reads until the other side closes; returns the PDUs that came before.</summary>
    public async Task<List<RawPdu>> ReadUntilClosedAsync()
    {
        var pdus = new List<RawPdu>();
        while (await ReadPduAsync() is { } pdu) pdus.Add(pdu);
        return pdus;
    }

    private async Task<bool> ReadExactlyAsync(byte[] buffer)
    {
        int have = 0;
        while (have < buffer.Length)
        {
            int n;
            try
            {
                n = await _stream.ReadAsync(buffer.AsMemory(have), _guard.Token);
            }
            catch (IOException)
            {
                return false;
            }
            if (n == 0) return false;
            have += n;
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _guard.Dispose();
    }

    // ---------------------------------------------------------------- PDU builders

    public static AssociateRequest VerificationRequest(string calling = "RAWSCU", string called = "YINGYUN")
    {
        var rq = new AssociateRequest { CallingAeTitle = calling, CalledAeTitle = called };
        rq.PresentationContexts.Add(new(1, DicomUids.Verification, [DicomUids.ImplicitVRLittleEndian]));
        rq.UserInformation.MaximumLength = 16384;
        return rq;
    }

    /// <summary>A P-DATA-TF PDU with one PDV.</summary>
    public static byte[] PData(byte contextId, byte control, ReadOnlySpan<byte> data)
    {
        var pdu = new byte[12 + data.Length];
        pdu[0] = (byte)PduType.PData;
        BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(2), (uint)(6 + data.Length));
        BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(6), (uint)(2 + data.Length));
        pdu[10] = contextId;
        pdu[11] = control;
        data.CopyTo(pdu.AsSpan(12));
        return pdu;
    }

    public static byte[] EchoRequest(ushort messageId = 1) =>
        CommandSetCodec.Encode(DimseCommand.CreateRequest(DimseCommandField.CEchoRequest, messageId, DicomUids.Verification, hasDataSet: false));

    /// <summary>Connects, associates for Verification and returns the peer in Sta6.</summary>
    public static async Task<RawPeer> AssociateAsync(int port, AssociateRequest? request = null)
    {
        var peer = await ConnectAsync(port);
        await peer.SendAsync(PduEncoder.Encode(request ?? VerificationRequest()));
        var ac = await peer.ExpectPduAsync(PduType.AssociateAccept);
        ac.Accept.PresentationContexts.Should().Contain(p => p.Result == PresentationContextResult.Acceptance);
        return peer;
    }
}
