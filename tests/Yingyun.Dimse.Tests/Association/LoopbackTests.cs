using Yingyun.Dicom;
using Yingyun.Dimse.Tests.Infrastructure;

namespace Yingyun.Dimse.Tests.Association;

/// <summary>Yingyun SCU against Yingyun SCP.</summary>
public class LoopbackTests
{
    [Fact]
    public async Task Echo_then_release()
    {
        await using var server = new TestServer();
        await using var association = await DicomClient.ConnectAsync(server.Client(), [DicomUids.Verification]);
        association.State.Should().Be(UpperLayerState.Sta6);
        var pc = association.PresentationContexts.Should().ContainSingle().Subject;
        pc.IsAccepted.Should().BeTrue();
        pc.TransferSyntax.Should().Be(DicomTransferSyntax.ExplicitVRLittleEndian);
        (await association.EchoAsync()).Should().Be(DimseStatus.Success);
        (await association.EchoAsync()).Should().Be(DimseStatus.Success);
        await association.ReleaseAsync();
        association.EndReason.Should().Be(AssociationEndReason.Released);
        association.State.Should().Be(UpperLayerState.Sta1);
    }

    [Theory]
    [InlineData("CT_small.dcm")]
    [InlineData("MR_small_implicit.dcm")]
    [InlineData("JPEG2000.dcm")]
    [InlineData("rtplan.dcm")]
    public async Task Store_file_arrives_byte_identical(string name)
    {
        var path = Corpus.File(name);
        var header = await Part10Header.ReadAsync(path);
        await using var server = new TestServer();
        var rq = new AssociationRequestBuilder("TESTSCU", "YINGYUN").AddStorageContexts([header]).Build();
        await using var association = await DicomClient.ConnectAsync(server.Client(), rq);
        var result = await association.StoreFileAsync(path);
        result.Status.Should().Be(DimseStatus.Success, result.ToString());
        await association.ReleaseAsync();

        var received = server.Store.PathFor(header.SopInstanceUid);
        Corpus.DataSetBytes(received).Should().Equal(Corpus.DataSetBytes(path));
        var receivedHeader = await Part10Header.ReadAsync(received);
        receivedHeader.TransferSyntax.Should().Be(header.TransferSyntax);
        receivedHeader.SopClassUid.Should().Be(header.SopClassUid);
    }

    [Fact]
    public async Task Small_peer_pdu_length_fragments_the_data_set()
    {
        var path = Corpus.File("CT_small.dcm");
        var header = await Part10Header.ReadAsync(path);
        await using var server = new TestServer(o => o.Association.MaximumPduLength = 1024);
        var rq = new AssociationRequestBuilder("TESTSCU", "YINGYUN").AddStorageContexts([header]).Build();
        await using var association = await DicomClient.ConnectAsync(server.Client(), rq);
        association.SendPduLength.Should().Be(1024);
        (await association.StoreFileAsync(path)).IsSuccess.Should().BeTrue();
        await association.ReleaseAsync();
        Corpus.DataSetBytes(server.Store.PathFor(header.SopInstanceUid)).Should().Equal(Corpus.DataSetBytes(path));
    }

    [Fact]
    public async Task Unsupported_abstract_syntax_is_rejected_per_context()
    {
        await using var server = new TestServer();
        var builder = new AssociationRequestBuilder("TESTSCU", "YINGYUN");
        builder.AddPresentationContext(DicomUids.Verification);
        builder.AddPresentationContext("1.2.3.4.5.6.7");
        builder.AddPresentationContext(DicomUids.CTImageStorage, "1.2.3.999");
        await using var association = await DicomClient.ConnectAsync(server.Client(), builder.Build());
        association.GetPresentationContext(1)!.IsAccepted.Should().BeTrue();
        association.GetPresentationContext(3)!.Result.Should().Be(PresentationContextResult.AbstractSyntaxNotSupported);
        association.GetPresentationContext(5)!.Result.Should().Be(PresentationContextResult.TransferSyntaxesNotSupported);
        (await association.EchoAsync()).IsSuccess.Should().BeTrue();
        await association.ReleaseAsync();
    }

    [Fact]
    public async Task Compressed_proposals_are_accepted_as_proposed_and_uncompressed_prefer_explicit()
    {
        await using var server = new TestServer();
        var builder = new AssociationRequestBuilder("TESTSCU", "YINGYUN");
        builder.AddPresentationContext(DicomUids.CTImageStorage, DicomUids.ImplicitVRLittleEndian, DicomUids.JPEG2000Lossless, DicomUids.ExplicitVRLittleEndian);
        builder.AddPresentationContext(DicomUids.MRImageStorage, DicomUids.ImplicitVRLittleEndian, DicomUids.ExplicitVRLittleEndian);
        builder.AddPresentationContext(DicomUids.MRImageStorage, DicomUids.ExplicitVRBigEndian);
        await using var association = await DicomClient.ConnectAsync(server.Client(), builder.Build());
        association.GetPresentationContext(1)!.TransferSyntax!.Uid.Should().Be(DicomUids.JPEG2000Lossless);
        association.GetPresentationContext(3)!.TransferSyntax!.Uid.Should().Be(DicomUids.ExplicitVRLittleEndian);
        association.GetPresentationContext(5)!.TransferSyntax!.Uid.Should().Be(DicomUids.ExplicitVRBigEndian);
        await association.ReleaseAsync();
    }

    [Fact]
    public async Task Role_selection_and_user_identity_are_answered()
    {
        await using var server = new TestServer();
        var builder = new AssociationRequestBuilder("TESTSCU", "YINGYUN");
        builder.AddPresentationContext(DicomUids.StudyRootQueryRetrieveInformationModelGet);
        builder.AddPresentationContext(DicomUids.CTImageStorage);
        builder.AddRoleSelection(DicomUids.CTImageStorage, scuRole: false, scpRole: true);
        builder.AddRoleSelection(DicomUids.StudyRootQueryRetrieveInformationModelGet, scuRole: true, scpRole: true);
        builder.WithUserIdentity(UserIdentityRequest.ForUsernameAndPasscode("alice", "secret", positiveResponseRequested: true));
        await using var association = await DicomClient.ConnectAsync(server.Client(), builder.Build());
        var storage = association.PresentationContexts.Single(p => p.AbstractSyntax == DicomUids.CTImageStorage);
        association.CanInvoke(storage).Should().BeFalse("the requestor gave up its SCU role for CT storage");
        storage.RequestorIsScp.Should().BeTrue();
        storage.RequestorIsScu.Should().BeFalse();
        association.PresentationContexts.Single(p => p.AbstractSyntax == DicomUids.StudyRootQueryRetrieveInformationModelGet).RequestorIsScp.Should().BeFalse("the acceptor grants the SCP role for storage only");
        association.Accept!.UserInformation.UserIdentityAccept.Should().NotBeNull();
        await association.ReleaseAsync();
    }

    [Theory]
    [InlineData("MR_small_implicit.dcm", DicomUids.ExplicitVRLittleEndian)]
    [InlineData("rtplan.dcm", DicomUids.ExplicitVRLittleEndian)]
    [InlineData("CT_small.dcm", DicomUids.ImplicitVRLittleEndian)]
    [InlineData("MR_small_bigendian.dcm", DicomUids.ExplicitVRLittleEndian)]
    public async Task Uncompressed_file_is_converted_when_only_another_uncompressed_syntax_was_accepted(string name, string accepted)
    {
        var path = Corpus.File(name);
        var header = await Part10Header.ReadAsync(path);
        await using var server = new TestServer(o =>
        {
            o.Policy.TransferSyntaxes.Preferred.Clear();
            o.Policy.TransferSyntaxes.Preferred.Add(accepted);
            o.Policy.TransferSyntaxes.IsSupported = uid => uid == accepted;
        });
        var rq = new AssociationRequestBuilder("TESTSCU", "YINGYUN").AddStorageContexts([header]).Build();
        await using var association = await DicomClient.ConnectAsync(server.Client(), rq);
        var result = await association.StoreFileAsync(path);
        result.Status.Should().Be(DimseStatus.Success, result.ToString());
        await association.ReleaseAsync();

        var received = server.Store.PathFor(header.SopInstanceUid);
        (await Part10Header.ReadAsync(received)).TransferSyntax.Uid.Should().Be(accepted);
        var original = await DicomReader.OpenAsync(path);
        var stored = await DicomReader.OpenAsync(received);
        stored.Problems.Should().BeEmpty();
        await DataSetComparer.AssertEquivalentAsync(original.Dataset, stored.Dataset);
    }

    [Fact]
    public async Task Compressed_file_is_not_sent_in_a_syntax_the_peer_did_not_accept()
    {
        var path = Corpus.File("JPEG2000.dcm");
        var header = await Part10Header.ReadAsync(path);
        await using var server = new TestServer(o => o.Policy.TransferSyntaxes.AcceptCompressedAsProposed = false);
        var rq = new AssociationRequestBuilder("TESTSCU", "YINGYUN").AddStorageContexts([header]).Build();
        await using var association = await DicomClient.ConnectAsync(server.Client(), rq);
        var result = await association.StoreFileAsync(path);
        result.Status.Should().BeNull();
        result.ErrorComment.Should().Contain("transcoder");
        association.State.Should().Be(UpperLayerState.Sta6, "refusing one file leaves the association usable");
        await association.ReleaseAsync();
    }
}
