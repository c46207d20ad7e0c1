namespace Yingyun.Dimse;

/// <summary>The seven PDU types of the DICOM upper layer protocol (PS3.8 §9.3.1).</summary>
public enum PduType : byte
{
    AssociateRequest = 0x01,
    AssociateAccept = 0x02,
    AssociateReject = 0x03,
    PData = 0x04,
    ReleaseRequest = 0x05,
    ReleaseResponse = 0x06,
    Abort = 0x07,
}

/// <summary>Item and sub-item types of the A-ASSOCIATE PDUs (PS3.8 §9.3.2–9.3.3, PS3.8 Annex D, PS3.7 Annex D.3.3).</summary>
public enum ItemType : byte
{
    ApplicationContext = 0x10,
    PresentationContextRequest = 0x20,
    PresentationContextAccept = 0x21,
    AbstractSyntax = 0x30,
    TransferSyntax = 0x40,
    UserInformation = 0x50,
    MaximumLength = 0x51,
    ImplementationClassUid = 0x52,
    AsynchronousOperationsWindow = 0x53,
    RoleSelection = 0x54,
    ImplementationVersionName = 0x55,
    SopClassExtendedNegotiation = 0x56,
    SopClassCommonExtendedNegotiation = 0x57,
    UserIdentityRequest = 0x58,
    UserIdentityAccept = 0x59,
}

/// <summary>Source field of the A-ABORT PDU (PS3.8 §9.3.8, Table 9-26).</summary>
public enum AbortSource : byte
{
    ServiceUser = 0,
    Reserved = 1,
    ServiceProvider = 2,
}

/// <summary>Reason/Diagnostic field of the A-ABORT PDU; meaningful only when the source is the service provider
/// (PS3.8 §9.3.8, Table 9-26).</summary>
public enum AbortReason : byte
{
    NotSpecified = 0,
    UnrecognizedPdu = 1,
    UnexpectedPdu = 2,
    UnrecognizedPduParameter = 4,
    UnexpectedPduParameter = 5,
    InvalidPduParameterValue = 6,
}

/// <summary>Result field of the A-ASSOCIATE-RJ PDU (PS3.8 §9.3.4, Table 9-21).</summary>
public enum AssociateRejectResult : byte
{
    RejectedPermanent = 1,
    RejectedTransient = 2,
}

/// <summary>Source field of the A-ASSOCIATE-RJ PDU (PS3.8 §9.3.4, Table 9-21).</summary>
public enum AssociateRejectSource : byte
{
    ServiceUser = 1,
    /// <summary>DICOM UL service-provider (ACSE related function).</summary>
    ServiceProviderAcse = 2,
    /// <summary>DICOM UL service-provider (Presentation related function).</summary>
    ServiceProviderPresentation = 3,
}

/// <summary>Result/Reason field of a presentation context in the A-ASSOCIATE-AC PDU (PS3.8 §9.3.3.2, Table 9-18).</summary>
public enum PresentationContextResult : byte
{
    Acceptance = 0,
    UserRejection = 1,
    /// <summary>No reason (provider rejection).</summary>
    NoReason = 2,
    /// <summary>Abstract syntax not supported (provider rejection).</summary>
    AbstractSyntaxNotSupported = 3,
    /// <summary>Transfer syntaxes not supported (provider rejection).</summary>
    TransferSyntaxesNotSupported = 4,
}

/// <summary>User-Identity-Type of the User Identity sub-item (PS3.7 §D.3.3.7.1, Table D.3-14).</summary>
public enum UserIdentityType : byte
{
    Username = 1,
    UsernameAndPasscode = 2,
    KerberosServiceTicket = 3,
    SamlAssertion = 4,
    JsonWebToken = 5,
}
