using System.Buffers.Binary;
using CsCheck;
using Yingyun.Dicom;

namespace Yingyun.Dimse.Tests.UpperLayer;

public class PduCodecTests
{
    internal static AssociateRequest FullRequest()
    {
        var rq = new AssociateRequest { CalledAeTitle = "YINGYUN", CallingAeTitle = "CT01" };
        rq.PresentationContexts.Add(new(1, DicomUids.Verification, [DicomUids.ImplicitVRLittleEndian]));
        rq.PresentationContexts.Add(new(3, DicomUids.CTImageStorage, [DicomUids.ExplicitVRLittleEndian, DicomUids.ImplicitVRLittleEndian]));
        rq.PresentationContexts.Add(new(5, DicomUids.StudyRootQueryRetrieveInformationModelGet, [DicomUids.ImplicitVRLittleEndian]));
        var ui = rq.UserInformation;
        ui.MaximumLength = 16384;
        ui.AsynchronousOperationsWindow = new(5, 3);
        ui.RoleSelections.Add(new(DicomUids.CTImageStorage, false, true));
        ui.SopClassExtendedNegotiations.Add(new(DicomUids.StudyRootQueryRetrieveInformationModelFind, new byte[] { 1, 1, 0 }));
        ui.SopClassCommonExtendedNegotiations.Add(new(DicomUids.CTImageStorage, "1.2.840.10008.4.2", ["1.2.3", "1.2.3.4"]));
        ui.UserIdentity = UserIdentityRequest.ForUsernameAndPasscode("alice", "s3cret", positiveResponseRequested: true);
        return rq;
    }

    [Fact]
    public void Associate_request_round_trips_every_item()
    {
        var bytes = PduEncoder.Encode(FullRequest());
        bytes[0].Should().Be((byte)PduType.AssociateRequest);
        BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(2)).Should().Be((uint)(bytes.Length - 6));
        // Table 9-11: the called AE title sits at bytes 11–26 of the PDU, space padded.
        System.Text.Encoding.ASCII.GetString(bytes, 10, 16).Should().Be("YINGYUN         ");

        var rq = PduDecoder.DecodeAssociateRequest(bytes.AsSpan(6));
        rq.ProtocolVersion.Should().Be(1);
        rq.CalledAeTitle.Should().Be("YINGYUN");
        rq.CallingAeTitle.Should().Be("CT01");
        rq.ApplicationContextName.Should().Be("1.2.840.10008.3.1.1.1");
        rq.PresentationContexts.Should().HaveCount(3);
        rq.PresentationContexts[1].Id.Should().Be(3);
        rq.PresentationContexts[1].AbstractSyntax.Should().Be(DicomUids.CTImageStorage);
        rq.PresentationContexts[1].TransferSyntaxes.Should().Equal(DicomUids.ExplicitVRLittleEndian, DicomUids.ImplicitVRLittleEndian);
        var ui = rq.UserInformation;
        ui.MaximumLength.Should().Be(16384);
        ui.ImplementationClassUid.Should().Be(Implementation.ClassUid);
        ui.ImplementationVersionName.Should().Be(Implementation.VersionName);
        ui.AsynchronousOperationsWindow.Should().Be(new AsynchronousOperationsWindow(5, 3));
        ui.RoleSelections.Should().ContainSingle().Which.Should().Be(new RoleSelection(DicomUids.CTImageStorage, false, true));
        ui.SopClassExtendedNegotiations.Should().ContainSingle().Which.ServiceClassApplicationInformation.ToArray().Should().Equal(1, 1, 0);
        var common = ui.SopClassCommonExtendedNegotiations.Should().ContainSingle().Subject;
        common.ServiceClassUid.Should().Be("1.2.840.10008.4.2");
        common.RelatedGeneralSopClassUids.Should().Equal("1.2.3", "1.2.3.4");
        ui.UserIdentity!.Type.Should().Be(UserIdentityType.UsernameAndPasscode);
        ui.UserIdentity.PositiveResponseRequested.Should().BeTrue();
        ui.UserIdentity.PrimaryFieldText.Should().Be("alice");
        System.Text.Encoding.UTF8.GetString(ui.UserIdentity.SecondaryField.Span).Should().Be("s3cret");
        ui.UserIdentity.ToString().Should().NotContain("s3cret");
    }

    [Theory]
    [InlineData(UserIdentityType.Username)]
    [InlineData(UserIdentityType.KerberosServiceTicket)]
    [InlineData(UserIdentityType.SamlAssertion)]
    [InlineData(UserIdentityType.JsonWebToken)]
    public void User_identity_types_round_trip(UserIdentityType type)
    {
        var rq = FullRequest();
        rq.UserInformation.UserIdentity = new UserIdentityRequest(type, false, new byte[] { 0xDE, 0xAD, 0xBE, 0xEF }, default);
        var back = PduDecoder.DecodeAssociateRequest(PduEncoder.Encode(rq).AsSpan(6)).UserInformation.UserIdentity!;
        back.Type.Should().Be(type);
        back.PositiveResponseRequested.Should().BeFalse();
        back.PrimaryField.ToArray().Should().Equal(0xDE, 0xAD, 0xBE, 0xEF);
        back.SecondaryField.Length.Should().Be(0);
    }

    [Fact]
    public void Associate_accept_round_trips_results_roles_and_identity_response()
    {
        var ac = new AssociateAccept { CalledAeTitle = "YINGYUN", CallingAeTitle = "CT01" };
        ac.PresentationContexts.Add(new(1, PresentationContextResult.Acceptance, DicomUids.ImplicitVRLittleEndian));
        ac.PresentationContexts.Add(new(3, PresentationContextResult.AbstractSyntaxNotSupported, ""));
        ac.PresentationContexts.Add(new(5, PresentationContextResult.TransferSyntaxesNotSupported, ""));
        ac.UserInformation.MaximumLength = 0;
        ac.UserInformation.RoleSelections.Add(new(DicomUids.CTImageStorage, false, true));
        ac.UserInformation.UserIdentityAccept = new UserIdentityAccept(new byte[] { 7, 8, 9 });

        var back = PduDecoder.DecodeAssociateAccept(PduEncoder.Encode(ac).AsSpan(6));
        back.PresentationContexts.Should().Equal(ac.PresentationContexts);
        back.UserInformation.MaximumLength.Should().Be(0);
        back.UserInformation.RoleSelections.Should().Equal(ac.UserInformation.RoleSelections);
        back.UserInformation.UserIdentityAccept!.ServerResponse.ToArray().Should().Equal(7, 8, 9);
    }

    [Fact]
    public void Fixed_pdus_have_the_standard_layout()
    {
        PduEncoder.Encode(AssociateReject.LocalLimitExceeded).Should().Equal(0x03, 0, 0, 0, 0, 4, 0, 2, 3, 2);
        PduEncoder.Encode(new AbortPdu(AbortSource.ServiceProvider, AbortReason.UnexpectedPdu)).Should().Equal(0x07, 0, 0, 0, 0, 4, 0, 0, 2, 2);
        PduEncoder.EncodeReleaseRequest().Should().Equal(0x05, 0, 0, 0, 0, 4, 0, 0, 0, 0);
        PduEncoder.EncodeReleaseResponse().Should().Equal(0x06, 0, 0, 0, 0, 4, 0, 0, 0, 0);
        PduDecoder.DecodeAssociateReject([0, 1, 1, 3]).Should().Be(AssociateReject.CallingAeTitleNotRecognized);
        PduDecoder.DecodeAbort([0, 0, 2, 6]).Should().Be(new AbortPdu(AbortSource.ServiceProvider, AbortReason.InvalidPduParameterValue));
    }

    private static PduFormatException Decoding(byte[] pdu) =>
        FluentActions.Invoking(() => PduDecoder.DecodeAssociateRequest(pdu.AsSpan(6))).Should().Throw<PduFormatException>().Which;

    /// <summary>Finds the first item of <paramref name="type"/> after the fixed fields.</summary>
    private static int FindItem(byte[] pdu, ItemType type)
    {
        int at = 6 + PduDecoder.AssociateFixedFieldsLength;
        while (pdu[at] != (byte)type) at += 4 + BinaryPrimitives.ReadUInt16BigEndian(pdu.AsSpan(at + 2));
        return at;
    }

    [Fact]
    public void Item_length_past_the_end_is_an_invalid_parameter()
    {
        var pdu = PduEncoder.Encode(FullRequest());
        int at = FindItem(pdu, ItemType.UserInformation);
        BinaryPrimitives.WriteUInt16BigEndian(pdu.AsSpan(at + 2), 0xFFF0);
        Decoding(pdu).Reason.Should().Be(AbortReason.InvalidPduParameterValue);
    }

    [Fact]
    public void Sub_item_length_past_its_item_is_an_invalid_parameter()
    {
        var pdu = PduEncoder.Encode(FullRequest());
        int at = FindItem(pdu, ItemType.PresentationContextRequest);
        // The abstract syntax sub-item starts 8 bytes into the presentation context item.
        BinaryPrimitives.WriteUInt16BigEndian(pdu.AsSpan(at + 8 + 2), 200);
        Decoding(pdu).Reason.Should().Be(AbortReason.InvalidPduParameterValue);
    }

    [Fact]
    public void Unknown_item_type_is_an_unrecognized_parameter()
    {
        var pdu = PduEncoder.Encode(FullRequest());
        pdu[FindItem(pdu, ItemType.PresentationContextRequest)] = 0x2F;
        Decoding(pdu).Reason.Should().Be(AbortReason.UnrecognizedPduParameter);
    }

    [Fact]
    public void Accept_item_in_a_request_is_unexpected()
    {
        var pdu = PduEncoder.Encode(FullRequest());
        pdu[FindItem(pdu, ItemType.PresentationContextRequest)] = (byte)ItemType.PresentationContextAccept;
        Decoding(pdu).Reason.Should().Be(AbortReason.UnexpectedPduParameter);
    }

    [Fact]
    public void Even_presentation_context_id_and_truncated_fixed_fields_are_invalid()
    {
        var pdu = PduEncoder.Encode(FullRequest());
        pdu[FindItem(pdu, ItemType.PresentationContextRequest) + 4] = 2;
        Decoding(pdu).Reason.Should().Be(AbortReason.InvalidPduParameterValue);
        FluentActions.Invoking(() => PduDecoder.DecodeAssociateRequest(new byte[40])).Should().Throw<PduFormatException>();
    }

    [Fact]
    public void Missing_user_information_is_invalid()
    {
        var pdu = PduEncoder.Encode(FullRequest());
        int at = FindItem(pdu, ItemType.UserInformation);
        Decoding(pdu[..at]).Message.Should().Contain("user information");
    }

    [Fact]
    public void Unknown_user_information_sub_items_are_ignored()
    {
        var rq = new AssociateRequest { CalledAeTitle = "A", CallingAeTitle = "B" };
        rq.PresentationContexts.Add(new(1, DicomUids.Verification, [DicomUids.ImplicitVRLittleEndian]));
        var pdu = PduEncoder.Encode(rq).ToList();
        int at = FindItem([.. pdu], ItemType.UserInformation);
        // Append a sub-item 5FH with 2 bytes and fix the item and PDU lengths.
        pdu.AddRange([0x5F, 0, 0, 2, 0xAA, 0xBB]);
        var bytes = pdu.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(at + 2), (ushort)(bytes.Length - at - 4));
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(2), (uint)(bytes.Length - 6));
        PduDecoder.DecodeAssociateRequest(bytes.AsSpan(6)).UserInformation.MaximumLength.Should().Be(0);
    }

    [Fact]
    public void Release_and_abort_must_have_length_four()
    {
        FluentActions.Invoking(() => PduDecoder.DecodeRelease(new byte[5], PduType.ReleaseRequest)).Should().Throw<PduFormatException>()
            .Which.Reason.Should().Be(AbortReason.InvalidPduParameterValue);
        FluentActions.Invoking(() => PduDecoder.DecodeAbort(new byte[3])).Should().Throw<PduFormatException>();
        FluentActions.Invoking(() => PduDecoder.DecodeAssociateReject([0, 9, 1, 1])).Should().Throw<PduFormatException>();
    }

    [Fact]
    public void Decoder_never_throws_anything_but_PduFormatException_on_random_bytes()
    {
        var valid = PduEncoder.Encode(FullRequest());
        Gen.Select(Gen.Int[0, valid.Length - 1].Array[1, 8], Gen.Byte.Array[1, 8]).Sample((positions, values) =>
        {
            var mutated = (byte[])valid.Clone();
            for (int i = 0; i < positions.Length; i++) mutated[positions[i]] = values[i % values.Length];
            try
            {
                PduDecoder.DecodeAssociateRequest(mutated.AsSpan(6));
                PduDecoder.DecodeAssociateAccept(mutated.AsSpan(6));
            }
            catch (PduFormatException)
            {
            }
        }, iter: 2000);
    }
}
