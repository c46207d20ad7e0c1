namespace Yingyun.Dimse;

/// <summary>Command Field values (PS3.7 §E.1, Table E.1-1 and §9.3, §10.3).</summary>
public enum DimseCommandField : ushort
{
    CStoreRequest = 0x0001,
    CStoreResponse = 0x8001,
    CGetRequest = 0x0010,
    CGetResponse = 0x8010,
    CFindRequest = 0x0020,
    CFindResponse = 0x8020,
    CMoveRequest = 0x0021,
    CMoveResponse = 0x8021,
    CEchoRequest = 0x0030,
    CEchoResponse = 0x8030,
    NEventReportRequest = 0x0100,
    NEventReportResponse = 0x8100,
    NGetRequest = 0x0110,
    NGetResponse = 0x8110,
    NSetRequest = 0x0120,
    NSetResponse = 0x8120,
    NActionRequest = 0x0130,
    NActionResponse = 0x8130,
    NCreateRequest = 0x0140,
    NCreateResponse = 0x8140,
    NDeleteRequest = 0x0150,
    NDeleteResponse = 0x8150,
    CCancelRequest = 0x0FFF,
}

/// <summary>Priority (0000,0700) of C-STORE, C-FIND, C-MOVE and C-GET requests (PS3.7 §E.1).</summary>
public enum DimsePriority : ushort
{
    Medium = 0x0000,
    High = 0x0001,
    Low = 0x0002,
}

public enum DimseStatusCategory
{
    Success,
    Warning,
    Failure,
    Cancel,
    Pending,
}

/// <summary>A DIMSE status code (0000,0900); PS3.7 Annex C lists the general ones, each service class its own.</summary>
public readonly record struct DimseStatus(ushort Code)
{
    public static readonly DimseStatus Success = new(0x0000);
    public static readonly DimseStatus Pending = new(0xFF00);
    /// <summary>C-FIND pending: one or more optional keys were not supported (PS3.4 §C.4.1.1.4).</summary>
    public static readonly DimseStatus PendingWarning = new(0xFF01);
    public static readonly DimseStatus Cancel = new(0xFE00);
    /// <summary>PS3.7 §C.4.5 warning, sub-operations complete with failures (C-MOVE/C-GET).</summary>
    public static readonly DimseStatus SubOperationsCompleteWithFailures = new(0xB000);
    /// <summary>C-STORE warning: coercion of data elements (PS3.4 §B.2.3).</summary>
    public static readonly DimseStatus CoercionOfDataElements = new(0xB000);
    /// <summary>C-STORE warning: elements discarded (PS3.4 §B.2.3).</summary>
    public static readonly DimseStatus ElementsDiscarded = new(0xB006);
    /// <summary>C-STORE warning: data set does not match SOP class (PS3.4 §B.2.3).</summary>
    public static readonly DimseStatus DataSetDoesNotMatchSopClassWarning = new(0xB007);
    public static readonly DimseStatus ProcessingFailure = new(0x0110);
    public static readonly DimseStatus DuplicateSopInstance = new(0x0111);
    public static readonly DimseStatus NoSuchSopInstance = new(0x0112);
    public static readonly DimseStatus NoSuchSopClass = new(0x0118);
    public static readonly DimseStatus ClassInstanceConflict = new(0x0119);
    /// <summary>N-EVENT-REPORT: no such event type (PS3.7 §10.1.1.1.8).</summary>
    public static readonly DimseStatus NoSuchEventType = new(0x0113);
    /// <summary>N-ACTION, N-EVENT-REPORT: no such argument (PS3.7 §10.1.1.1.8, §10.1.4.1.10).</summary>
    public static readonly DimseStatus NoSuchArgument = new(0x0114);
    /// <summary>N-ACTION, N-EVENT-REPORT: invalid argument value (PS3.7 §10.1.1.1.8, §10.1.4.1.10).</summary>
    public static readonly DimseStatus InvalidArgumentValue = new(0x0115);
    /// <summary>N-ACTION: no such action (PS3.7 §10.1.4.1.10).</summary>
    public static readonly DimseStatus NoSuchAction = new(0x0123);
    public static readonly DimseStatus MistypedArgument = new(0x0212);
    /// <summary>N-services: resource limitation (PS3.7 Annex C).</summary>
    public static readonly DimseStatus ResourceLimitation = new(0x0213);
    public static readonly DimseStatus SopClassNotSupported = new(0x0122);
    public static readonly DimseStatus UnrecognizedOperation = new(0x0211);
    public static readonly DimseStatus NotAuthorized = new(0x0124);
    /// <summary>Refused: out of resources (PS3.4 §B.2.3, C.4).</summary>
    public static readonly DimseStatus OutOfResources = new(0xA700);
    /// <summary>C-MOVE: refused, out of resources — unable to calculate number of matches (PS3.4 §C.4.2.1.5).</summary>
    public static readonly DimseStatus OutOfResourcesUnableToCalculateMatches = new(0xA701);
    /// <summary>C-MOVE/C-GET: refused, out of resources — unable to perform sub-operations.</summary>
    public static readonly DimseStatus OutOfResourcesUnableToPerformSubOperations = new(0xA702);
    /// <summary>C-MOVE: refused, move destination unknown (PS3.4 §C.4.2.1.5).</summary>
    public static readonly DimseStatus MoveDestinationUnknown = new(0xA801);
    /// <summary>Error: data set does not match SOP class (PS3.4 §B.2.3, C.4).</summary>
    public static readonly DimseStatus DataSetDoesNotMatchSopClass = new(0xA900);
    /// <summary>Error: cannot understand / unable to process (PS3.4 §B.2.3, C.4).</summary>
    public static readonly DimseStatus CannotUnderstand = new(0xC000);

    public DimseStatusCategory Category => Code switch
    {
        0x0000 => DimseStatusCategory.Success,
        0xFF00 or 0xFF01 => DimseStatusCategory.Pending,
        0xFE00 => DimseStatusCategory.Cancel,
        // PS3.7 §C.1–C.3: warnings are 0001, 0107, 0116 and Bxxx.
        0x0001 or 0x0107 or 0x0116 or (>= 0xB000 and <= 0xBFFF) => DimseStatusCategory.Warning,
        _ => DimseStatusCategory.Failure,
    };

    public bool IsSuccess => Category == DimseStatusCategory.Success;
    public bool IsPending => Category == DimseStatusCategory.Pending;
    public bool IsSuccessOrWarning => Category is DimseStatusCategory.Success or DimseStatusCategory.Warning;

    public override string ToString() => $"{Code:X4}H ({Category})";
}

/// <summary>The peer answered a request with a failure status where the operation cannot go on without success
/// (an N-ACTION that was refused, say).</summary>
public sealed class DimseStatusException : Exception
{
    public DimseStatusException(DimseStatus status, string message) : base(message) => Status = status;
    public DimseStatusException() { }
    public DimseStatusException(string message) : base(message) { }
    public DimseStatusException(string message, Exception inner) : base(message, inner) { }

    public DimseStatus Status { get; }
}
