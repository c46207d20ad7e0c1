using Yingyun.Dicom;
using Yingyun.Dimse.Tests.Infrastructure;

namespace Yingyun.Dimse.Tests.Association;

/// <summary>A-ASSOCIATE-RJ with the result, source and reason of PS3.8 Table 9-21.</summary>
public class NegotiationTests
{
    private static async Task<AssociateReject> RejectedAsync(DicomClientOptions options)
    {
        var act = () => DicomClient.ConnectAsync(options, [DicomUids.Verification]);
        return (await act.Should().ThrowAsync<DicomAssociationRejectedException>()).Which.Reject!;
    }

    [Fact]
    public async Task Repeated_role_selections_are_answered_once_per_sop_class()
    {
        // PS3.7 §D.3.3.4: one role selection item per SOP class. A requestor that repeats it gets one answer (for
        // the first, which is the one the association applies), so the A-ASSOCIATE-AC stays within what its user
        // information item can hold however many it sends.
        var rq = PduDecoder.DecodeAssociateRequest(Fuzz.FuzzRegressionTests.RepeatedRoleSelections().AsSpan(6));
        rq.UserInformation.RoleSelections.Should().HaveCountGreaterThan(2000);
        rq.UserInformation.RoleSelections.Add(new RoleSelection(DicomUids.CTImageStorage, true, true));
        rq.PresentationContexts.Add(new PresentationContextRequestItem(3, DicomUids.CTImageStorage, [DicomUids.ImplicitVRLittleEndian]));
        rq.UserInformation.RoleSelections.Add(new RoleSelection(DicomUids.CTImageStorage, false, false));

        var decision = await new AssociationPolicy().NegotiateAsync(new AssociationRequestContext(rq, null, new DicomAssociationOptions()), CancellationToken.None);

        decision.AcceptPdu!.UserInformation.RoleSelections.Should().Equal(
            new RoleSelection(DicomUids.Verification, true, false), new RoleSelection(DicomUids.CTImageStorage, true, true));
        PduEncoder.Encode(decision.AcceptPdu).Length.Should().BeLessThan(1024);
    }

    [Fact]
    public async Task Unknown_calling_ae_is_rejected_when_the_policy_says_so()
    {
        await using var server = new TestServer(o => o.Policy.Authorizer = new CallingAeAllowList(["CT01", "MR01"]));
        (await RejectedAsync(server.Client("STRANGER"))).Should().Be(AssociateReject.CallingAeTitleNotRecognized);
        (await server.EchoAsync("CT01")).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task The_requestor_may_take_the_scp_role_for_storage_and_storage_commitment_only()
    {
        await using var server = new TestServer();
        var builder = new AssociationRequestBuilder("TESTSCU", "YINGYUN");
        builder.AddPresentationContext(DicomUids.StorageCommitmentPushModel);
        builder.AddPresentationContext(DicomUids.CTImageStorage);
        builder.AddPresentationContext(DicomUids.StudyRootQueryRetrieveInformationModelFind);
        // PS3.4 §J.3.3.1.3: a Storage Commitment SCP opening an association for its report proposes the SCP role.
        builder.AddRoleSelection(DicomUids.StorageCommitmentPushModel, scuRole: false, scpRole: true);
        builder.AddRoleSelection(DicomUids.CTImageStorage, scuRole: true, scpRole: true);
        builder.AddRoleSelection(DicomUids.StudyRootQueryRetrieveInformationModelFind, scuRole: true, scpRole: true);
        await using var association = await DicomClient.ConnectAsync(server.Client(), builder.Build());
        var contexts = association.PresentationContexts.ToDictionary(p => p.AbstractSyntax);
        association.IsScpFor(contexts[DicomUids.StorageCommitmentPushModel]).Should().BeTrue();
        contexts[DicomUids.StorageCommitmentPushModel].RequestorIsScu.Should().BeFalse();
        association.IsScpFor(contexts[DicomUids.CTImageStorage]).Should().BeTrue();
        association.IsScpFor(contexts[DicomUids.StudyRootQueryRetrieveInformationModelFind]).Should().BeFalse("the archive answers queries, it does not ask them");
        await association.ReleaseAsync();
    }

    [Fact]
    public async Task Wrong_called_ae_is_rejected()
    {
        await using var server = new TestServer();
        (await RejectedAsync(server.Client(calledAe: "OTHER"))).Should().Be(AssociateReject.CalledAeTitleNotRecognized);
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task Per_ae_and_total_limits_reject_transiently_with_local_limit_exceeded()
    {
        await using var server = new TestServer(o =>
        {
            o.MaximumAssociationsPerCallingAe = 1;
            o.MaximumAssociations = 2;
        });
        await using var first = await DicomClient.ConnectAsync(server.Client("CT01"), [DicomUids.Verification]);
        var reject = await RejectedAsync(server.Client("CT01"));
        reject.Should().Be(AssociateReject.LocalLimitExceeded);
        reject.Result.Should().Be(AssociateRejectResult.RejectedTransient);
        reject.Source.Should().Be(AssociateRejectSource.ServiceProviderPresentation);
        reject.Reason.Should().Be(2);

        await using var second = await DicomClient.ConnectAsync(server.Client("MR01"), [DicomUids.Verification]);
        (await RejectedAsync(server.Client("US01"))).Should().Be(AssociateReject.LocalLimitExceeded);

        await first.ReleaseAsync();
        await second.ReleaseAsync();
        (await server.EchoAsync("CT01")).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task Unsupported_protocol_version_and_application_context_are_rejected()
    {
        await using var server = new TestServer();
        await using (var peer = await RawPeer.ConnectAsync(server.Port))
        {
            var rq = RawPeer.VerificationRequest();
            rq.ProtocolVersion = 2;
            await peer.SendAsync(PduEncoder.Encode(rq));
            var pdus = await peer.ReadUntilClosedAsync();
            pdus.Should().ContainSingle().Which.Reject.Should().Be(AssociateReject.ProtocolVersionNotSupported);
        }
        await using (var peer = await RawPeer.ConnectAsync(server.Port))
        {
            var rq = RawPeer.VerificationRequest();
            rq.ApplicationContextName = "1.2.3.4";
            await peer.SendAsync(PduEncoder.Encode(rq));
            var rj = await peer.ExpectPduAsync(PduType.AssociateReject);
            rj.Reject.Should().Be(AssociateReject.ApplicationContextNameNotSupported);
        }
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task No_acceptable_presentation_context_is_answered_context_by_context()
    {
        await using var server = new TestServer(o =>
        {
            o.Policy.AbstractSyntaxes.Clear();
            o.Policy.AbstractSyntaxes.Add(DicomUids.Verification);
        });
        await using (var peer = await RawPeer.ConnectAsync(server.Port))
        {
            var rq = new AssociateRequest { CallingAeTitle = "RAW", CalledAeTitle = "YINGYUN" };
            rq.PresentationContexts.Add(new(1, DicomUids.CTImageStorage, [DicomUids.ExplicitVRLittleEndian]));
            rq.PresentationContexts.Add(new(3, DicomUids.Verification, ["1.2.3.4.5"]));
            await peer.SendAsync(PduEncoder.Encode(rq));
            var ac = (await peer.ExpectPduAsync(PduType.AssociateAccept)).Accept;
            ac.PresentationContexts.Should().Equal(
                new PresentationContextAcceptItem(1, PresentationContextResult.AbstractSyntaxNotSupported, ""),
                new PresentationContextAcceptItem(3, PresentationContextResult.TransferSyntaxesNotSupported, ""));
            await peer.SendAsync(PduEncoder.EncodeReleaseRequest());
            await peer.ExpectPduAsync(PduType.ReleaseResponse);
        }
        (await server.EchoAsync()).Should().Be(DimseStatus.Success);
    }

    [Fact]
    public async Task Authorizer_sees_the_user_identity_and_returns_the_server_response()
    {
        var authorizer = new RecordingAuthorizer();
        await using var server = new TestServer(o => o.Policy.Authorizer = authorizer);
        var builder = new AssociationRequestBuilder("CT01", "YINGYUN");
        builder.AddPresentationContext(DicomUids.Verification);
        builder.WithUserIdentity(UserIdentityRequest.ForJsonWebToken("eyJhbGciOi.x.y", positiveResponseRequested: true));
        await using var association = await DicomClient.ConnectAsync(server.Client("CT01"), builder.Build());
        authorizer.Seen!.Type.Should().Be(UserIdentityType.JsonWebToken);
        authorizer.Seen.PrimaryFieldText.Should().Be("eyJhbGciOi.x.y");
        association.Accept!.UserInformation.UserIdentityAccept!.ServerResponse.ToArray().Should().Equal((byte)'o', (byte)'k');
        await association.ReleaseAsync();
    }

    private sealed class RecordingAuthorizer : IAssociationAuthorizer
    {
        public UserIdentityRequest? Seen { get; private set; }

        public ValueTask<AssociationAuthorization> AuthorizeAsync(AssociationRequestContext context, CancellationToken cancellationToken)
        {
            Seen = context.Request.UserInformation.UserIdentity;
            return ValueTask.FromResult(new AssociationAuthorization(null, "ok"u8.ToArray()));
        }
    }
}
