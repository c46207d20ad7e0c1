using System.Buffers.Binary;
using Yingyun.Dicom;

namespace Yingyun.Dimse.Fuzz;

/// <summary>Valid inputs made with the library's own encoders: whole conversations of a requestor with the acceptor
/// (A-ASSOCIATE-RQ, P-DATA-TF with commands and data sets, then A-RELEASE-RQ or A-ABORT) for each DIMSE service the
/// acceptor answers and each way negotiation ends, and one PDU of every type (PS3.8 §9.3). The captures of real
/// peers are in tests/fuzz/seeds/pdu.</summary>
internal static class PduSeeds
{
    private const byte Last = 0x02, Command = 0x01;

    public static IReadOnlyList<(string Name, byte[] Bytes)> Create()
    {
        var seeds = new List<(string, byte[])>
        {
            // The first seed is also the warm-up run of PduTarget: keep it the simplest conversation.
            ("echo", Concat(
                PduEncoder.Encode(Request("ECHOSCU", (1, DicomUids.Verification, [DicomUids.ImplicitVRLittleEndian]))),
                PData(1, Command | Last, CommandSetCodec.Encode(DimseCommand.CreateRequest(DimseCommandField.CEchoRequest, 1, DicomUids.Verification, false))),
                PduEncoder.EncodeReleaseRequest())),
            ("store", Store()),
            ("find", Find()),
            ("get", Get()),
            ("move", Move()),
            ("n-action", NAction()),
            ("unknown-abstract-syntax", Concat(
                PduEncoder.Encode(Request("STORESCU", (1, "1.2.3.4.5", [DicomUids.ExplicitVRLittleEndian]), (3, DicomUids.Verification, ["1.2.3", DicomUids.ExplicitVRLittleEndian]))),
                // A PDV on the context the acceptor refused: an abort.
                PData(1, Command | Last, CommandSetCodec.Encode(DimseCommand.CreateRequest(DimseCommandField.CEchoRequest, 1, DicomUids.Verification, false))))),
            ("rejected-called-ae", PduEncoder.Encode(WithCalled(Request("ECHOSCU", (1, DicomUids.Verification, [DicomUids.ImplicitVRLittleEndian])), "ELSEWHERE"))),
            ("rejected-calling-ae", PduEncoder.Encode(Request(PduTarget.RejectedCallingAeTitle, (1, DicomUids.Verification, [DicomUids.ImplicitVRLittleEndian])))),
            ("rejected-protocol-version", PduEncoder.Encode(WithVersion(Request("ECHOSCU", (1, DicomUids.Verification, [DicomUids.ImplicitVRLittleEndian])), 2))),
            ("release-then-data", Concat(
                PduEncoder.Encode(Request("ECHOSCU", (1, DicomUids.Verification, [DicomUids.ExplicitVRLittleEndian]))),
                PduEncoder.EncodeReleaseRequest(),
                PData(1, Command | Last, CommandSetCodec.Encode(DimseCommand.CreateRequest(DimseCommandField.CEchoRequest, 2, DicomUids.Verification, false))))),
            ("accept", PduEncoder.Encode(Accept())),
            ("reject", PduEncoder.Encode(AssociateReject.CalledAeTitleNotRecognized)),
            ("abort", PduEncoder.Encode(new AbortPdu(AbortSource.ServiceProvider, AbortReason.InvalidPduParameterValue))),
            ("release-rq", PduEncoder.EncodeReleaseRequest()),
            ("release-rp", PduEncoder.EncodeReleaseResponse()),
            ("p-data-response", PData(1, Command | Last, CommandSetCodec.Encode(DimseCommand.CreateResponse(
                DimseCommand.CreateRequest(DimseCommandField.CEchoRequest, 7, DicomUids.Verification, false), DimseStatus.Success)))),
        };
        return seeds;
    }

    private static AssociateRequest Request(string callingAe, params (byte Id, string AbstractSyntax, string[] TransferSyntaxes)[] contexts)
    {
        var rq = new AssociateRequest { CalledAeTitle = PduTarget.AeTitle, CallingAeTitle = callingAe };
        rq.UserInformation.MaximumLength = 16384;
        foreach (var (id, abstractSyntax, transferSyntaxes) in contexts)
            rq.PresentationContexts.Add(new PresentationContextRequestItem(id, abstractSyntax, transferSyntaxes));
        return rq;
    }

    private static AssociateRequest WithCalled(AssociateRequest rq, string called)
    {
        rq.CalledAeTitle = called;
        return rq;
    }

    private static AssociateRequest WithVersion(AssociateRequest rq, ushort version)
    {
        rq.ProtocolVersion = version;
        return rq;
    }

    private static byte[] Store()
    {
        var rq = Request("MODALITY",
            (1, DicomUids.CTImageStorage, [DicomUids.JPEG2000, DicomUids.ExplicitVRLittleEndian, DicomUids.ImplicitVRLittleEndian]),
            (3, DicomUids.MRImageStorage, [DicomUids.ExplicitVRBigEndian]),
            (5, DicomUids.SecondaryCaptureImageStorage, [DicomUids.DeflatedExplicitVRLittleEndian, DicomUids.ExplicitVRLittleEndian]),
            (7, DicomUids.Verification, [DicomUids.ImplicitVRLittleEndian]));
        rq.UserInformation.MaximumLength = 0;
        rq.UserInformation.ImplementationVersionName = "FUZZ_SEED_1";
        rq.UserInformation.AsynchronousOperationsWindow = new AsynchronousOperationsWindow(1, 1);
        rq.UserInformation.RoleSelections.Add(new RoleSelection(DicomUids.CTImageStorage, true, false));
        var store = DimseCommand.CreateRequest(DimseCommandField.CStoreRequest, 1, DicomUids.CTImageStorage, true);
        store.AffectedSopInstanceUid = "2.25.123456789";
        store.Priority = DimsePriority.Medium;
        store.MoveOriginatorAeTitle = "MOVER";
        store.MoveOriginatorMessageId = 9;
        byte[] command = CommandSetCodec.Encode(store);
        byte[] data = Encode(Instance(DicomUids.CTImageStorage, "2.25.123456789"), DicomTransferSyntax.ExplicitVRLittleEndian);
        int half = data.Length / 2;
        return Concat(
            PduEncoder.Encode(rq),
            // The command in two fragments of one PDU, the data set in two PDUs (PS3.8 Annex E).
            PData((1, Command, command[..20]), (1, Command | Last, command[20..])),
            PData(1, 0, data[..half]),
            PData(1, Last, data[half..]),
            PData(7, Command | Last, CommandSetCodec.Encode(DimseCommand.CreateRequest(DimseCommandField.CEchoRequest, 2, DicomUids.Verification, false))),
            PduEncoder.EncodeReleaseRequest());
    }

    private static byte[] Find()
    {
        var rq = Request("FINDSCU",
            (1, DicomUids.StudyRootQueryRetrieveInformationModelFind, [DicomUids.ExplicitVRLittleEndian, DicomUids.ImplicitVRLittleEndian]),
            (3, DicomUids.PatientRootQueryRetrieveInformationModelFind, [DicomUids.ImplicitVRLittleEndian]));
        rq.UserInformation.SopClassExtendedNegotiations.Add(new SopClassExtendedNegotiation(DicomUids.StudyRootQueryRetrieveInformationModelFind, new byte[] { 1, 1, 0 }));
        rq.UserInformation.SopClassCommonExtendedNegotiations.Add(new SopClassCommonExtendedNegotiation(DicomUids.CTImageStorage, "1.2.840.10008.4.2", [DicomUids.EnhancedCTImageStorage]));
        rq.UserInformation.UserIdentity = UserIdentityRequest.ForUsernameAndPasscode("radiologist", "secret", positiveResponseRequested: true);
        var find = DimseCommand.CreateRequest(DimseCommandField.CFindRequest, 1, DicomUids.StudyRootQueryRetrieveInformationModelFind, true);
        var identifier = new DicomDataset();
        identifier.AddOrUpdate(DicomTags.QueryRetrieveLevel, "STUDY");
        identifier.AddOrUpdate(DicomTags.PatientName, "DOE^*");
        identifier.AddOrUpdate(DicomTags.StudyInstanceUID, DicomVR.UI, "");
        identifier.AddOrUpdate(DicomTags.ModalitiesInStudy, "CT");
        var cancel = new DimseCommand { CommandField = DimseCommandField.CCancelRequest, MessageIdBeingRespondedTo = 1, HasDataSet = false };
        return Concat(
            PduEncoder.Encode(rq),
            PData(1, Command | Last, CommandSetCodec.Encode(find)),
            PData(1, Last, Encode(identifier, DicomTransferSyntax.ExplicitVRLittleEndian)),
            PData(1, Command | Last, CommandSetCodec.Encode(cancel)),
            PduEncoder.EncodeReleaseRequest());
    }

    private static byte[] Get()
    {
        var rq = Request("GETSCU",
            (1, DicomUids.StudyRootQueryRetrieveInformationModelGet, [DicomUids.ImplicitVRLittleEndian]),
            (3, DicomUids.CTImageStorage, [DicomUids.ImplicitVRLittleEndian]));
        rq.UserInformation.RoleSelections.Add(new RoleSelection(DicomUids.CTImageStorage, false, true));
        rq.UserInformation.UserIdentity = UserIdentityRequest.ForJsonWebToken("eyJhbGciOiJub25lIn0.e30.", positiveResponseRequested: true);
        var get = DimseCommand.CreateRequest(DimseCommandField.CGetRequest, 1, DicomUids.StudyRootQueryRetrieveInformationModelGet, true);
        get.Priority = DimsePriority.High;
        var identifier = new DicomDataset();
        identifier.AddOrUpdate(DicomTags.QueryRetrieveLevel, "SERIES");
        identifier.AddOrUpdate(DicomTags.StudyInstanceUID, "2.25.1");
        identifier.AddOrUpdate(DicomTags.SeriesInstanceUID, "2.25.1.2");
        return Concat(
            PduEncoder.Encode(rq),
            PData((1, Command | Last, CommandSetCodec.Encode(get)), (1, Last, Encode(identifier, DicomTransferSyntax.ImplicitVRLittleEndian))),
            PduEncoder.Encode(new AbortPdu(AbortSource.ServiceUser, AbortReason.NotSpecified)));
    }

    private static byte[] Move()
    {
        var rq = Request("MOVESCU", (1, DicomUids.PatientRootQueryRetrieveInformationModelMove, [DicomUids.ExplicitVRBigEndian, DicomUids.ImplicitVRLittleEndian]));
        var move = DimseCommand.CreateRequest(DimseCommandField.CMoveRequest, 3, DicomUids.PatientRootQueryRetrieveInformationModelMove, true);
        move.MoveDestination = "STORESCP";
        var identifier = new DicomDataset();
        identifier.AddOrUpdate(DicomTags.QueryRetrieveLevel, "PATIENT");
        identifier.AddOrUpdate(DicomTags.PatientID, "PID-1");
        return Concat(
            PduEncoder.Encode(rq),
            PData(1, Command | Last, CommandSetCodec.Encode(move)),
            PData(1, Last, Encode(identifier, DicomTransferSyntax.ImplicitVRLittleEndian)),
            PduEncoder.EncodeReleaseRequest());
    }

    private static byte[] NAction()
    {
        var rq = Request("COMMITSCU", (1, DicomUids.StorageCommitmentPushModel, [DicomUids.ImplicitVRLittleEndian]));
        var action = new DimseCommand { CommandField = DimseCommandField.NActionRequest, MessageId = 5, HasDataSet = true, ActionTypeId = 1 };
        action.RequestedSopClassUid = DicomUids.StorageCommitmentPushModel;
        action.RequestedSopInstanceUid = DicomUids.StorageCommitmentPushModelInstance;
        // PS3.4 Table J.3-1: the Action Information of Request Storage Commitment.
        var list = new DicomDataset();
        list.AddOrUpdate(DicomTags.TransactionUID, "2.25.77");
        var reference = new DicomDataset();
        reference.AddOrUpdate(DicomTags.ReferencedSOPClassUID, DicomUids.CTImageStorage);
        reference.AddOrUpdate(DicomTags.ReferencedSOPInstanceUID, "2.25.123456789");
        list.AddOrUpdate(new DicomSequence(DicomTags.ReferencedSOPSequence, reference));
        return Concat(
            PduEncoder.Encode(rq),
            PData(1, Command | Last, CommandSetCodec.Encode(action)),
            PData(1, Last, Encode(list, DicomTransferSyntax.ImplicitVRLittleEndian)),
            PduEncoder.EncodeReleaseRequest());
    }

    private static AssociateAccept Accept()
    {
        var ac = new AssociateAccept { CalledAeTitle = PduTarget.AeTitle, CallingAeTitle = "MODALITY" };
        ac.UserInformation.MaximumLength = 262144;
        ac.UserInformation.RoleSelections.Add(new RoleSelection(DicomUids.CTImageStorage, false, true));
        ac.UserInformation.UserIdentityAccept = new UserIdentityAccept("token"u8.ToArray());
        ac.PresentationContexts.Add(new PresentationContextAcceptItem(1, PresentationContextResult.Acceptance, DicomUids.ExplicitVRLittleEndian));
        ac.PresentationContexts.Add(new PresentationContextAcceptItem(3, PresentationContextResult.AbstractSyntaxNotSupported, ""));
        ac.PresentationContexts.Add(new PresentationContextAcceptItem(5, PresentationContextResult.TransferSyntaxesNotSupported, ""));
        return ac;
    }

    private static DicomDataset Instance(string sopClass, string sopInstance)
    {
        var ds = new DicomDataset();
        ds.AddOrUpdate(DicomTags.SOPClassUID, sopClass);
        ds.AddOrUpdate(DicomTags.SOPInstanceUID, sopInstance);
        ds.AddOrUpdate(DicomTags.PatientName, "DOE^JANE");
        ds.AddOrUpdate(DicomTags.PatientID, "PID-1");
        ds.AddOrUpdate(DicomTags.StudyInstanceUID, "2.25.1");
        ds.AddOrUpdate(DicomTags.SeriesInstanceUID, "2.25.1.2");
        ds.AddOrUpdate(DicomTags.Modality, "CT");
        ds.AddOrUpdate(DicomTags.Rows, (ushort)2);
        ds.AddOrUpdate(DicomTags.Columns, (ushort)2);
        ds.AddOrUpdate(DicomTags.BitsAllocated, (ushort)16);
        ds.AddOrUpdate(new DicomElement(DicomTag.PixelDataTag, DicomVR.OW, new byte[] { 1, 0, 2, 0, 3, 0, 4, 0 }));
        return ds;
    }

    private static byte[] Encode(DicomDataset ds, DicomTransferSyntax syntax) =>
        QueryRetrieve.EncodeAsync(ds, syntax).GetAwaiter().GetResult();

    private static byte[] PData(byte contextId, int control, byte[] data) => PData((contextId, control, data));

    /// <summary>A P-DATA-TF PDU (PS3.8 §9.3.5): PDV items of length, context ID, message control header, data.</summary>
    private static byte[] PData(params (byte ContextId, int Control, byte[] Data)[] pdvs)
    {
        int length = pdvs.Sum(p => 6 + p.Data.Length);
        var pdu = new byte[6 + length];
        pdu[0] = (byte)PduType.PData;
        BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(2), (uint)length);
        int at = 6;
        foreach (var (contextId, control, data) in pdvs)
        {
            BinaryPrimitives.WriteUInt32BigEndian(pdu.AsSpan(at), (uint)(data.Length + 2));
            pdu[at + 4] = contextId;
            pdu[at + 5] = (byte)control;
            data.CopyTo(pdu, at + 6);
            at += 6 + data.Length;
        }
        return pdu;
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
