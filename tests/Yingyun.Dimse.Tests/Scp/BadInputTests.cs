using System.Buffers.Binary;
using System.Text;
using Yingyun.Dicom;
using Yingyun.Dimse.Tests.Infrastructure;

namespace Yingyun.Dimse.Tests.Scp;

/// <summary>Whatever arrives on the port gets the standard's answer (PS3.8 §9.2, Table 9-10), nothing escapes the
/// connection handler, and the next association succeeds.</summary>
public class BadInputTests
{
    private static async Task ExpectAbortThenCloseAsync(RawPeer peer, AbortSource source, AbortReason reason)
    {
        var pdus = await peer.ReadUntilClosedAsync();
        pdus.Should().ContainSingle().Which.Abort.Should().Be(new AbortPdu(source, reason));
    }

    [Fact]
    public async Task Http_request_is_aborted_on_its_first_byte()
    {
        await using var server = new TestServer();
        await using (var peer = await RawPeer.ConnectAsync(server.Port))
        {
            await peer.SendAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
            // Sta2 + Evt19 → AA-1: A-ABORT (unrecognized PDU), then the connection closes.
            await ExpectAbortThenCloseAsync(peer, AbortSource.ServiceProvider, AbortReason.UnrecognizedPdu);
        }
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task Random_bytes_are_aborted()
    {
        await using var server = new TestServer();
        var random = new Random(20240501);
        for (int i = 0; i < 5; i++)
        {
            var bytes = new byte[4096];
            random.NextBytes(bytes);
            bytes[0] = (byte)(0x08 + i * 37); // not a PDU type
            await using var peer = await RawPeer.ConnectAsync(server.Port);
            await peer.SendAsync(bytes);
            await ExpectAbortThenCloseAsync(peer, AbortSource.ServiceProvider, AbortReason.UnrecognizedPdu);
        }
        await using (var peer = await RawPeer.ConnectAsync(server.Port))
        {
            // An A-ASSOCIATE-RQ type byte with random content: the items do not parse.
            var bytes = new byte[1006];
            random.NextBytes(bytes);
            bytes[0] = 0x01;
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(2), 1000);
            await peer.SendAsync(bytes);
            var pdus = await peer.ReadUntilClosedAsync();
            pdus.Should().ContainSingle().Which.Abort.Source.Should().Be(AbortSource.ServiceProvider);
        }
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task Oversized_pdu_length_is_aborted_before_any_body_is_read()
    {
        await using var server = new TestServer();
        await using (var peer = await RawPeer.ConnectAsync(server.Port))
        {
            // 4 GB announced, nothing sent after the header: the answer cannot depend on buffering it.
            await peer.SendAsync(new byte[] { 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0xF0 });
            await ExpectAbortThenCloseAsync(peer, AbortSource.ServiceProvider, AbortReason.InvalidPduParameterValue);
        }
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task Wrong_item_length_is_an_invalid_parameter()
    {
        await using var server = new TestServer();
        await using (var peer = await RawPeer.ConnectAsync(server.Port))
        {
            var rq = PduEncoder.Encode(RawPeer.VerificationRequest());
            // The application context item follows the 74 bytes of header and fixed fields; make it claim 2000 bytes.
            BinaryPrimitives.WriteUInt16BigEndian(rq.AsSpan(74 + 2), 2000);
            await peer.SendAsync(rq);
            await ExpectAbortThenCloseAsync(peer, AbortSource.ServiceProvider, AbortReason.InvalidPduParameterValue);
        }
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task Truncated_pdu_then_close_ends_quietly()
    {
        await using var server = new TestServer();
        await using (var peer = await RawPeer.ConnectAsync(server.Port))
        {
            var rq = PduEncoder.Encode(RawPeer.VerificationRequest());
            await peer.SendAsync(rq.AsMemory(0, 40));
            peer.ShutdownSend();
            // Evt17 in Sta2 → AA-5: nothing to answer, the server just closes.
            (await peer.ReadUntilClosedAsync()).Should().BeEmpty();
        }
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task Pdata_before_association_is_an_unexpected_pdu()
    {
        await using var server = new TestServer();
        await using (var peer = await RawPeer.ConnectAsync(server.Port))
        {
            await peer.SendAsync(RawPeer.PData(1, 0x03, RawPeer.EchoRequest()));
            await ExpectAbortThenCloseAsync(peer, AbortSource.ServiceProvider, AbortReason.UnexpectedPdu);
        }
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task Second_associate_request_during_an_association_is_aborted()
    {
        await using var server = new TestServer();
        await using (var peer = await RawPeer.AssociateAsync(server.Port))
        {
            await peer.SendAsync(PduEncoder.Encode(RawPeer.VerificationRequest()));
            // Sta6 + Evt6 → AA-8.
            await ExpectAbortThenCloseAsync(peer, AbortSource.ServiceProvider, AbortReason.UnexpectedPdu);
        }
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task Pdata_longer_than_our_maximum_is_aborted()
    {
        await using var server = new TestServer(o => o.Association.MaximumPduLength = 4096);
        await using (var peer = await RawPeer.AssociateAsync(server.Port))
        {
            await peer.SendAsync(RawPeer.PData(1, 0x00, new byte[5000]));
            await ExpectAbortThenCloseAsync(peer, AbortSource.ServiceProvider, AbortReason.InvalidPduParameterValue);
        }
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task Pdv_for_an_unknown_context_or_with_a_bad_length_is_aborted()
    {
        await using var server = new TestServer();
        await using (var peer = await RawPeer.AssociateAsync(server.Port))
        {
            await peer.SendAsync(RawPeer.PData(7, 0x03, RawPeer.EchoRequest()));
            await ExpectAbortThenCloseAsync(peer, AbortSource.ServiceProvider, AbortReason.InvalidPduParameterValue);
        }
        await using (var peer = await RawPeer.AssociateAsync(server.Port))
        {
            var pdu = RawPeer.PData(1, 0x03, RawPeer.EchoRequest());
            BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(6), 0x7FFF_FFFF);
            await peer.SendAsync(pdu);
            await ExpectAbortThenCloseAsync(peer, AbortSource.ServiceProvider, AbortReason.InvalidPduParameterValue);
        }
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task Dimse_violations_get_a_service_user_abort()
    {
        await using var server = new TestServer();
        await using (var peer = await RawPeer.AssociateAsync(server.Port))
        {
            // A data fragment with no command before it (PS3.7 §6.3.1).
            await peer.SendAsync(RawPeer.PData(1, 0x02, new byte[16]));
            await ExpectAbortThenCloseAsync(peer, AbortSource.ServiceUser, AbortReason.NotSpecified);
        }
        await using (var peer = await RawPeer.AssociateAsync(server.Port))
        {
            // A command set that does not decode.
            await peer.SendAsync(RawPeer.PData(1, 0x03, new byte[] { 0, 0, 0, 0, 0xFF, 0xFF, 0, 0 }));
            await ExpectAbortThenCloseAsync(peer, AbortSource.ServiceUser, AbortReason.NotSpecified);
        }
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task Raw_echo_and_release_follow_the_protocol()
    {
        await using var server = new TestServer();
        await using var peer = await RawPeer.AssociateAsync(server.Port);
        await peer.SendAsync(RawPeer.PData(1, 0x03, RawPeer.EchoRequest(42)));
        var rsp = await peer.ExpectPduAsync(PduType.PData);
        var (contextId, control, data) = rsp.Pdvs().Should().ContainSingle().Subject;
        contextId.Should().Be(1);
        control.Should().Be(0x03);
        var command = CommandSetCodec.Decode(data);
        command.CommandField.Should().Be(DimseCommandField.CEchoResponse);
        command.MessageIdBeingRespondedTo.Should().Be(42);
        command.Status.Should().Be(DimseStatus.Success);
        command.HasDataSet.Should().BeFalse();

        await peer.SendAsync(PduEncoder.EncodeReleaseRequest());
        await peer.ExpectPduAsync(PduType.ReleaseResponse);
    }

    [Fact]
    public async Task Peer_abort_ends_the_association_and_the_server_keeps_serving()
    {
        await using var server = new TestServer();
        await using (var peer = await RawPeer.AssociateAsync(server.Port))
        {
            await peer.SendAsync(PduEncoder.Encode(new AbortPdu(AbortSource.ServiceUser, AbortReason.NotSpecified)));
            (await peer.ReadUntilClosedAsync()).Should().BeEmpty();
        }
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task Garbage_data_set_gets_a_failure_status_and_the_association_goes_on()
    {
        await using var server = new TestServer();
        var builder = new AssociationRequestBuilder("TESTSCU", "YINGYUN");
        builder.AddPresentationContext(DicomUids.Verification);
        builder.AddPresentationContext(DicomUids.CTImageStorage, DicomUids.ExplicitVRLittleEndian);
        await using var association = await DicomClient.ConnectAsync(server.Client(), builder.Build());
        var garbage = new byte[10000];
        new Random(7).NextBytes(garbage);
        var response = await association.StoreAsync(DicomUids.CTImageStorage, "1.2.3.4.5", DicomTransferSyntax.ExplicitVRLittleEndian, new MemoryStream(garbage));
        response.Command.Status.Category.Should().Be(DimseStatusCategory.Failure, response.Command.ErrorComment);
        response.Command.ErrorComment.Should().NotBeNullOrEmpty();
        File.Exists(server.Store.PathFor("1.2.3.4.5")).Should().BeFalse();
        Directory.GetFiles(server.Folder.Path).Should().BeEmpty("the temporary file is removed");

        // A real instance sent under another instance UID does not match its command either.
        await using (var ct = File.OpenRead(Corpus.File("CT_small.dcm")))
        {
            ct.Position = (await Part10Header.ReadAsync(Corpus.File("CT_small.dcm"))).DataSetOffset;
            var mismatch = await association.StoreAsync(DicomUids.CTImageStorage, "1.2.3.4.6", DicomTransferSyntax.ExplicitVRLittleEndian, ct);
            mismatch.Command.Status.Should().Be(DimseStatus.DataSetDoesNotMatchSopClass);
        }
        (await association.EchoAsync()).Should().Be(DimseStatus.Success);
        await association.ReleaseAsync();
    }

    [Fact]
    public async Task Data_set_cut_short_inside_pixel_data_gets_cannot_understand_and_leaves_no_file()
    {
        await using var server = new TestServer();
        var path = Corpus.File("CT_small.dcm");
        var header = await Part10Header.ReadAsync(path);
        var bytes = Corpus.DataSetBytes(path);
        var builder = new AssociationRequestBuilder("TESTSCU", "YINGYUN");
        builder.AddPresentationContext(DicomUids.CTImageStorage, DicomUids.ExplicitVRLittleEndian);
        await using var association = await DicomClient.ConnectAsync(server.Client(), builder.Build());

        // The command announces the data set; the SCU ends it early but properly (last fragment): the bytes fit no
        // element boundary, which only the structure after the header shows.
        var response = await association.StoreAsync(header.SopClassUid, header.SopInstanceUid, DicomTransferSyntax.ExplicitVRLittleEndian, new MemoryStream(bytes[..^100]));
        response.Command.Status.Should().Be(DimseStatus.CannotUnderstand, response.Command.ErrorComment);
        // CT_small.dcm ends with Data Set Trailing Padding (FFFC,FFFC): that is the value cut short.
        response.Command.ErrorComment.Should().StartWith($"offset {bytes.Length - 126 - 12} (FFFC,FFFC): value length 126 but only 26");
        Directory.GetFiles(server.Folder.Path).Should().BeEmpty("the temporary file is removed");

        // The whole data set on the same association is stored, byte for byte after the File Meta Information.
        var whole = await association.StoreAsync(header.SopClassUid, header.SopInstanceUid, DicomTransferSyntax.ExplicitVRLittleEndian, new MemoryStream(bytes));
        whole.Command.Status.Should().Be(DimseStatus.Success);
        var stored = await File.ReadAllBytesAsync(server.Store.PathFor(header.SopInstanceUid));
        stored[(int)Part10Header.Parse(stored).DataSetOffset..].Should().Equal(bytes);
        await association.ReleaseAsync();
    }

    [Fact]
    public async Task Association_aborted_in_the_middle_of_a_data_set_leaves_no_file()
    {
        var handled = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new TestServer(o => o.Services.StoreHandler = new SignallingStoreHandler(o.Services.StoreHandler!, handled));
        var path = Corpus.File("CT_small.dcm");
        var header = await Part10Header.ReadAsync(path);
        var bytes = Corpus.DataSetBytes(path);
        var request = new AssociateRequest { CallingAeTitle = "RAWSCU", CalledAeTitle = "YINGYUN" };
        request.PresentationContexts.Add(new(1, DicomUids.CTImageStorage, [DicomUids.ExplicitVRLittleEndian]));
        request.UserInformation.MaximumLength = 16384;
        await using (var peer = await RawPeer.AssociateAsync(server.Port, request))
        {
            var store = DimseCommand.CreateRequest(DimseCommandField.CStoreRequest, 1, header.SopClassUid, hasDataSet: true);
            store.AffectedSopInstanceUid = header.SopInstanceUid;
            await peer.SendAsync(RawPeer.PData(1, 0x03, CommandSetCodec.Encode(store)));
            await peer.SendAsync(RawPeer.PData(1, 0x00, bytes.AsSpan(0, 2000)));
            await peer.SendAsync(PduEncoder.Encode(new AbortPdu(AbortSource.ServiceUser, AbortReason.NotSpecified)));
            (await handled.Task.WaitAsync(TimeSpan.FromSeconds(30))).Should().NotBeNull("the data set stream fails when the association ends");
        }
        Directory.GetFiles(server.Folder.Path).Should().BeEmpty("the temporary file is removed");
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    /// <summary>Tells the test when the store handler has finished, and how.</summary>
    private sealed class SignallingStoreHandler(IStoreHandler inner, TaskCompletionSource<Exception?> done) : IStoreHandler
    {
        public async ValueTask<StoreResult> StoreAsync(StoreRequest request, Stream dataSet, CancellationToken cancellationToken)
        {
            try
            {
                var result = await inner.StoreAsync(request, dataSet, cancellationToken);
                done.TrySetResult(null);
                return result;
            }
            catch (Exception ex)
            {
                done.TrySetResult(ex);
                throw;
            }
        }
    }
}
