namespace Yingyun.Dicom;

/// <summary>What is wrong with an element or a data set. Stable numbers: the quality engine stores and counts them.</summary>
public enum DicomValidationProblemCode
{
    /// <summary>The element's VR is not one the data dictionary allows for the tag (PS3.6), or not a VR at all.</summary>
    WrongVR = 1,
    /// <summary>The number of values does not match the dictionary's value multiplicity (PS3.5 §6.4, PS3.6).</summary>
    VMMismatch = 2,
    /// <summary>The value length is odd (PS3.5 §7.1.1: every value has even length).</summary>
    OddLength = 3,
    /// <summary>A value is longer than its VR allows (PS3.5 Table 6.2-1).</summary>
    ValueTooLong = 4,
    /// <summary>A binary value's length is not a whole number of its VR's units (2, 4 or 8 bytes).</summary>
    InvalidLength = 5,
    /// <summary>A character the VR does not allow: control characters, characters outside the default repertoire in a
    /// VR that does not depend on Specific Character Set (PS3.5 §6.1.2.3, Table 6.2-1).</summary>
    IllegalCharacter = 6,
    /// <summary>Bytes that do not decode in the declared Specific Character Set (0008,0005), or bytes above 7FH with
    /// no Specific Character Set at all.</summary>
    UndecodableCharacters = 7,
    /// <summary>A CS value with characters other than upper-case letters, digits, space and underscore.</summary>
    InvalidCodeString = 8,
    /// <summary>A UI value that is not a UID of PS3.5 §9.1.</summary>
    InvalidUid = 9,
    InvalidDate = 10,
    InvalidTime = 11,
    InvalidDateTime = 12,
    /// <summary>A DS or IS value that is not a number in the VR's syntax or range.</summary>
    InvalidNumber = 13,
    /// <summary>An AS value that is not "nnnD", "nnnW", "nnnM" or "nnnY".</summary>
    InvalidAge = 14,
    /// <summary>A PN value with more than three component groups or five components (PS3.5 §6.2.1).</summary>
    InvalidPersonName = 15,
    /// <summary>A private data element without the private creator element that reserves its block (PS3.5 §7.8.1).</summary>
    MissingPrivateCreator = 16,
    /// <summary>A Type 1 attribute of a module of the IOD is absent (PS3.5 §7.4.1).</summary>
    MissingType1 = 17,
    /// <summary>A Type 1 attribute is present with no value (PS3.5 §7.4.1).</summary>
    EmptyType1 = 18,
    /// <summary>A Type 2 attribute is absent; it must be present, possibly empty (PS3.5 §7.4.3).</summary>
    MissingType2 = 19,
}

/// <summary>One problem found by <see cref="DicomValidator"/>.</summary>
/// <param name="Code">What is wrong.</param>
/// <param name="Tag">The element the problem is about (the innermost one for a nested element).</param>
/// <param name="TagPath">Where: "(0010,0010)" at the top level, "(0040,0275)[0].(0040,0009)" inside sequence items.</param>
/// <param name="Value">The offending value as text, truncated; null when the problem is not about a value.</param>
/// <param name="Message">For people: what and which part of the standard.</param>
public sealed record DicomValidationProblem(DicomValidationProblemCode Code, DicomTag Tag, string TagPath, string? Value, string Message)
{
    public override string ToString() => Value is null ? $"{TagPath} {Code}: {Message}" : $"{TagPath} {Code}: {Message} ['{Value}']";
}

/// <summary>What <see cref="DicomValidator"/> checks.</summary>
public sealed record DicomValidationOptions
{
    public static DicomValidationOptions Default { get; } = new();

    /// <summary>Check Type 1 and Type 2 attributes of the common modules of the top-level data set's IOD.</summary>
    public bool CheckAttributeTypes { get; init; } = true;

    /// <summary>Check values against their VR (syntax, characters, lengths, multiplicity, character set).</summary>
    public bool CheckValues { get; init; } = true;

    /// <summary>Accept the range forms "a-b" of DA, TM and DT used in query identifiers (PS3.4 C.2.2.2.5).</summary>
    public bool AllowRanges { get; init; }

    /// <summary>Offending values are reported up to this many characters.</summary>
    public int MaxValueLength { get; init; } = 64;

    /// <summary>Stop after this many problems (a badly broken file can have thousands).</summary>
    public int MaxProblems { get; init; } = 1000;
}
