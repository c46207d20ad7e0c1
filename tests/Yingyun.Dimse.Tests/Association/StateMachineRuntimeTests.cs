using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Yingyun.Dicom;
using Yingyun.Dimse.Tests.Infrastructure;

namespace Yingyun.Dimse.Tests.Association;

/// <summary>Timers, release collision, abort and fragmentation on real connections.</summary>
public class StateMachineRuntimeTests
{
    [Fact]
    public async Task Artim_closes_a_connection_that_never_sends_an_associate_request()
    {
        await using var server = new TestServer(o => o.Association.ArtimTimeout = TimeSpan.FromMilliseconds(200));
        await using (var peer = await RawPeer.ConnectAsync(server.Port))
        {
            // Sta2 + Evt18 → AA-2: close, nothing sent.
            (await peer.ReadUntilClosedAsync()).Should().BeEmpty();
        }
        // The options are live: a normal timer for the follow-up association, which a busy machine may not open in 200 ms.
        server.Options.Association.ArtimTimeout = TimeSpan.FromSeconds(30);
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task Idle_association_is_aborted()
    {
        await using var server = new TestServer(o => o.Association.IdleTimeout = TimeSpan.FromMilliseconds(200));
        await using (var peer = await RawPeer.AssociateAsync(server.Port))
        {
            var pdus = await peer.ReadUntilClosedAsync();
            pdus.Should().ContainSingle().Which.Abort.Should().Be(new AbortPdu(AbortSource.ServiceUser, AbortReason.NotSpecified));
        }
        server.Options.Association.IdleTimeout = null;
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task Release_collision_on_the_requestor_side()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var peerTask = Task.Run(async () =>
        {
            await using var peer = await RawPeer.AcceptAsync(listener);
            var rq = (await peer.ExpectPduAsync(PduType.AssociateRequest)).Request;
            await peer.SendAsync(PduEncoder.Encode(AcceptAll(rq, 16384)));
            await peer.ExpectPduAsync(PduType.ReleaseRequest);
            // Collide: ask for release too. The requestor answers first (AR-9)…
            await peer.SendAsync(PduEncoder.EncodeReleaseRequest());
            await peer.ExpectPduAsync(PduType.ReleaseResponse);
            // …then the acceptor (AR-4); the requestor closes (AR-3).
            await peer.SendAsync(PduEncoder.EncodeReleaseResponse());
            return await peer.ReadUntilClosedAsync();
        });
        await using var association = await DicomClient.ConnectAsync(new DicomClientOptions { Host = "127.0.0.1", Port = port, CalledAeTitle = "RAW" }, [DicomUids.Verification]);
        await association.ReleaseAsync();
        association.EndReason.Should().Be(AssociationEndReason.Released);
        (await peerTask).Should().BeEmpty();
    }

    [Fact]
    public async Task Release_collision_on_the_acceptor_side()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var established = new TaskCompletionSource<DicomAssociation>(TaskCreationOptions.RunContinuationsAsynchronously);
        var acceptor = Task.Run(async () =>
        {
            var socket = await listener.AcceptSocketAsync();
            await DicomAssociation.RunAcceptorAsync(socket, new NetworkStream(socket, true), new DicomAssociationOptions(), new AssociationPolicy(),
                null, null, a => established.SetResult(a), CancellationToken.None);
        });
        await using var peer = await RawPeer.AssociateAsync(port);
        var association = await established.Task;
        var release = association.ReleaseAsync();
        await peer.ExpectPduAsync(PduType.ReleaseRequest);
        // The requestor's A-RELEASE-RQ crosses ours: the acceptor waits for the requestor's A-RELEASE-RP (Sta10)…
        await peer.SendAsync(PduEncoder.EncodeReleaseRequest());
        await peer.SendAsync(PduEncoder.EncodeReleaseResponse());
        // …then answers with its own (AR-10, AR-4) and waits for the close.
        await peer.ExpectPduAsync(PduType.ReleaseResponse);
        await peer.DisposeAsync();
        await release;
        await acceptor;
        association.EndReason.Should().Be(AssociationEndReason.Released);
    }

    [Fact]
    public async Task Client_sees_a_peer_abort_as_an_exception_on_its_pending_request()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var peerTask = Task.Run(async () =>
        {
            await using var peer = await RawPeer.AcceptAsync(listener);
            var rq = (await peer.ExpectPduAsync(PduType.AssociateRequest)).Request;
            await peer.SendAsync(PduEncoder.Encode(AcceptAll(rq, 16384)));
            await peer.ExpectPduAsync(PduType.PData);
            await peer.SendAsync(PduEncoder.Encode(new AbortPdu(AbortSource.ServiceUser, AbortReason.NotSpecified)));
        });
        await using var association = await DicomClient.ConnectAsync(new DicomClientOptions { Host = "127.0.0.1", Port = port, CalledAeTitle = "RAW" }, [DicomUids.Verification]);
        var act = () => association.EchoAsync();
        (await act.Should().ThrowAsync<DicomAssociationAbortedException>()).Which.Abort.Should().Be(new AbortPdu(AbortSource.ServiceUser, AbortReason.NotSpecified));
        await peerTask;
        await association.Completion;
        association.EndReason.Should().Be(AssociationEndReason.AbortedByPeer);
    }

    [Fact]
    public async Task Data_set_is_fragmented_to_the_peers_maximum_length()
    {
        var path = Corpus.File("CT_small.dcm");
        var header = await Part10Header.ReadAsync(path);
        const uint peerMaximum = 2000;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var peerTask = Task.Run(async () =>
        {
            await using var peer = await RawPeer.AcceptAsync(listener);
            var rq = (await peer.ExpectPduAsync(PduType.AssociateRequest)).Request;
            await peer.SendAsync(PduEncoder.Encode(AcceptAll(rq, peerMaximum)));
            var command = new MemoryStream();
            var data = new MemoryStream();
            var lengths = new List<int>();
            byte contextId = 0;
            while (true)
            {
                var pdu = await peer.ExpectPduAsync(PduType.PData);
                lengths.Add(pdu.Body.Length);
                bool last = false;
                foreach (var (id, control, bytes) in pdu.Pdvs())
                {
                    contextId = id;
                    ((control & 1) != 0 ? command : data).Write(bytes);
                    last = (control & 3) == 2;
                }
                if (last) break;
            }
            var rqCommand = CommandSetCodec.Decode(command.ToArray());
            var rsp = DimseCommand.CreateResponse(rqCommand, DimseStatus.Success);
            await peer.SendAsync(RawPeer.PData(contextId, 0x03, CommandSetCodec.Encode(rsp)));
            await peer.ExpectPduAsync(PduType.ReleaseRequest);
            await peer.SendAsync(PduEncoder.EncodeReleaseResponse());
            return (lengths, data.ToArray());
        });
        var rq = new AssociationRequestBuilder("TESTSCU", "RAW").AddStorageContexts([header]).Build();
        await using var association = await DicomClient.ConnectAsync(new DicomClientOptions { Host = "127.0.0.1", Port = port }, rq);
        association.SendPduLength.Should().Be(peerMaximum);
        (await association.StoreFileAsync(path)).IsSuccess.Should().BeTrue();
        await association.ReleaseAsync();
        var (pduLengths, dataSet) = await peerTask;
        pduLengths.Should().OnlyContain(l => l <= peerMaximum);
        pduLengths.Count.Should().BeGreaterThan(2);
        dataSet.Should().Equal(Corpus.DataSetBytes(path));
    }

    [Fact]
    public async Task Graceful_stop_lets_the_association_in_flight_finish()
    {
        var server = new TestServer();
        try
        {
            await using var association = await DicomClient.ConnectAsync(server.Client(), [DicomUids.Verification]);
            var stop = server.Server.StopAsync();
            // No new connections once stopping…
            var refused = () => DicomClient.ConnectAsync(server.Client(), [DicomUids.Verification]);
            await refused.Should().ThrowAsync<Exception>();
            stop.IsCompleted.Should().BeFalse();
            // …but the one in flight still works and its release lets the stop complete.
            (await association.EchoAsync()).Should().Be(DimseStatus.Success);
            await association.ReleaseAsync();
            await stop;
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Disposing_the_server_aborts_its_associations()
    {
        var server = new TestServer();
        await using var association = await DicomClient.ConnectAsync(server.Client(), [DicomUids.Verification]);
        await server.DisposeAsync();
        await association.Completion;
        association.EndReason.Should().Be(AssociationEndReason.AbortedByPeer);
        association.Abort.Should().Be(new AbortPdu(AbortSource.ServiceUser, AbortReason.NotSpecified));
    }

    /// <summary>An A-ASSOCIATE-AC accepting every proposed context with its first transfer syntax.</summary>
    internal static AssociateAccept AcceptAll(AssociateRequest rq, uint maximumLength)
    {
        var ac = new AssociateAccept { CalledAeTitle = rq.CalledAeTitle, CallingAeTitle = rq.CallingAeTitle };
        foreach (var pc in rq.PresentationContexts)
            ac.PresentationContexts.Add(new(pc.Id, PresentationContextResult.Acceptance, pc.TransferSyntaxes[0]));
        ac.UserInformation.MaximumLength = maximumLength;
        return ac;
    }
}
