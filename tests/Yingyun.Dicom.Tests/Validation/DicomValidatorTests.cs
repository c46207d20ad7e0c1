using System.Text;

namespace Yingyun.Dicom.Tests.Validation;

public class DicomValidatorTests
{
    /// <summary>A CT Image Storage instance with every attribute the module tables require, and a nested sequence.</summary>
    internal static DicomDataset CleanCT()
    {
        var request = new DicomDataset()
            .AddOrUpdate(DicomTags.RequestedProcedureID, "RP1")
            .AddOrUpdate(DicomTags.ScheduledProcedureStepID, "SPS1");
        var ds = new DicomDataset()
            .AddOrUpdate(DicomTags.ImageType, DicomVR.CS, "ORIGINAL", "PRIMARY", "AXIAL")
            .AddOrUpdate(DicomTags.SOPClassUID, DicomUids.CTImageStorage)
            .AddOrUpdate(DicomTags.SOPInstanceUID, "1.2.826.0.1.3680043.2.1125.1.20240102.1")
            .AddOrUpdate(DicomTags.StudyDate, new DateOnly(2024, 1, 2))
            .AddOrUpdate(DicomTags.StudyTime, new TimeOnly(12, 30, 5, 500))
            .AddOrUpdate(DicomTags.AccessionNumber, "A123")
            .AddOrUpdate(DicomTags.Modality, "CT")
            .AddOrUpdate(DicomTags.Manufacturer, "Yingyun")
            .AddOrUpdate(DicomTags.ReferringPhysicianName, Array.Empty<string>())
            .AddOrUpdate(DicomTags.PatientName, new DicomPersonName("Doe", "John"))
            .AddOrUpdate(DicomTags.PatientID, "P0001")
            .AddOrUpdate(DicomTags.PatientBirthDate, new DateOnly(1970, 1, 1))
            .AddOrUpdate(DicomTags.PatientSex, "M")
            .AddOrUpdate(DicomTags.PatientAge, new DicomAge(54, DicomAgeUnit.Years))
            .AddOrUpdate(DicomTags.KVP, DicomVR.DS, 120)
            .AddOrUpdate(DicomTags.SliceThickness, DicomVR.DS, 5)
            .AddOrUpdate(DicomTags.StudyInstanceUID, "1.2.826.0.1.3680043.2.1125.1")
            .AddOrUpdate(DicomTags.SeriesInstanceUID, "1.2.826.0.1.3680043.2.1125.1.2")
            .AddOrUpdate(DicomTags.StudyID, "S1")
            .AddOrUpdate(DicomTags.SeriesNumber, DicomVR.IS, 1)
            .AddOrUpdate(DicomTags.AcquisitionNumber, DicomVR.IS, 1)
            .AddOrUpdate(DicomTags.InstanceNumber, DicomVR.IS, 1)
            .AddOrUpdate(DicomTags.ImagePositionPatient, DicomVR.DS, -125.0, -125.5, 10.25)
            .AddOrUpdate(DicomTags.ImageOrientationPatient, DicomVR.DS, 1, 0, 0, 0, 1, 0)
            .AddOrUpdate(DicomTags.FrameOfReferenceUID, "1.2.826.0.1.3680043.2.1125.1.3")
            .AddOrUpdate(DicomTags.PositionReferenceIndicator, Array.Empty<string>())
            .AddOrUpdate(DicomTags.SamplesPerPixel, (ushort)1)
            .AddOrUpdate(DicomTags.PhotometricInterpretation, "MONOCHROME2")
            .AddOrUpdate(DicomTags.Rows, (ushort)2)
            .AddOrUpdate(DicomTags.Columns, (ushort)2)
            .AddOrUpdate(DicomTags.PixelSpacing, DicomVR.DS, 0.5, 0.5)
            .AddOrUpdate(DicomTags.BitsAllocated, (ushort)16)
            .AddOrUpdate(DicomTags.BitsStored, (ushort)12)
            .AddOrUpdate(DicomTags.HighBit, (ushort)11)
            .AddOrUpdate(DicomTags.PixelRepresentation, (ushort)0)
            .AddOrUpdate(DicomTags.RescaleIntercept, DicomVR.DS, -1024)
            .AddOrUpdate(DicomTags.RescaleSlope, DicomVR.DS, 1)
            .AddOrUpdate(DicomTags.ImageComments, DicomVR.LT, "line 1\r\n\tline 2\fpage 2")
            .AddOrUpdate(DicomTags.PixelData, DicomVR.OW, new ushort[4]);
        ds.AddOrUpdate(new DicomSequence(DicomTags.RequestAttributesSequence, request));
        ds.AddOrUpdate(new DicomTag(0x0029, 0x0010), DicomVR.LO, "YINGYUN");
        ds.AddOrUpdate(new DicomTag(0x0029, 0x1001), DicomVR.UN, new byte[] { 1, 2 });
        return ds;
    }

    internal static DicomDataset CleanMR()
    {
        var ds = CleanCT()
            .AddOrUpdate(DicomTags.SOPClassUID, DicomUids.MRImageStorage)
            .AddOrUpdate(DicomTags.Modality, "MR")
            .AddOrUpdate(DicomTags.ScanningSequence, DicomVR.CS, "SE")
            .AddOrUpdate(DicomTags.SequenceVariant, DicomVR.CS, "NONE")
            .AddOrUpdate(DicomTags.ScanOptions, Array.Empty<string>())
            .AddOrUpdate(DicomTags.MRAcquisitionType, "2D")
            .AddOrUpdate(DicomTags.EchoTime, DicomVR.DS, 12.5)
            .AddOrUpdate(DicomTags.EchoTrainLength, DicomVR.IS, 1);
        ds.Remove(DicomTags.KVP);
        ds.Remove(DicomTags.RescaleIntercept);
        ds.Remove(DicomTags.RescaleSlope);
        return ds;
    }

    private static DicomDataset Raw(DicomDataset ds, DicomTag tag, DicomVR vr, string bytes) =>
        ds.AddOrUpdate(new DicomElement(tag, vr, Encoding.Latin1.GetBytes(bytes)));

    [Fact]
    public void Clean_data_sets_have_no_problems()
    {
        DicomValidator.Validate(CleanCT()).Should().BeEmpty();
        DicomValidator.Validate(CleanMR()).Should().BeEmpty();
    }

    [Fact]
    public void A_clean_data_set_is_validated_with_almost_no_allocation()
    {
        var ds = CleanCT();
        DicomValidator.Validate(ds);
        DicomValidator.Validate(ds);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var problems = DicomValidator.Validate(ds);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        problems.Should().BeEmpty();
        allocated.Should().BeLessThan(512, "the walker and a path array, no strings");
    }

    public static TheoryData<string, Action<DicomDataset>, DicomValidationProblemCode, string> Cases() => new()
    {
        { "PN written as LO", ds => Raw(ds, DicomTags.PatientName, DicomVR.LO, "Doe^John"), DicomValidationProblemCode.WrongVR, "(0010,0010)" },
        { "not a VR at all", ds => ds.AddOrUpdate(new DicomElement(DicomTags.Manufacturer, DicomVRInfo.FromBytes((byte)'Q', (byte)'Q'), new byte[2])), DicomValidationProblemCode.WrongVR, "(0008,0070)" },
        { "private creator not LO", ds => Raw(ds, new DicomTag(0x0029, 0x0010), DicomVR.SH, "YINGYUN "), DicomValidationProblemCode.WrongVR, "(0029,0010)" },
        { "UID leading zero", ds => ds.AddOrUpdate(DicomTags.SOPInstanceUID, "1.2.03.4"), DicomValidationProblemCode.InvalidUid, "(0008,0018)" },
        { "UID empty component", ds => ds.AddOrUpdate(DicomTags.SOPInstanceUID, "1.2..4"), DicomValidationProblemCode.InvalidUid, "(0008,0018)" },
        { "UID letters", ds => ds.AddOrUpdate(DicomTags.SOPInstanceUID, "1.2.a.4"), DicomValidationProblemCode.InvalidUid, "(0008,0018)" },
        { "UID space padded", ds => Raw(ds, DicomTags.SOPInstanceUID, DicomVR.UI, "1.2.3 "), DicomValidationProblemCode.InvalidUid, "(0008,0018)" },
        { "UID too long", ds => ds.AddOrUpdate(DicomTags.SOPInstanceUID, "1." + new string('1', 64)), DicomValidationProblemCode.InvalidUid, "(0008,0018)" },
        { "VM 3 given 2", ds => ds.AddOrUpdate(DicomTags.ImagePositionPatient, DicomVR.DS, 1, 2), DicomValidationProblemCode.VMMismatch, "(0020,0032)" },
        { "VM 2-n given 1", ds => ds.AddOrUpdate(DicomTags.ImageType, DicomVR.CS, "ORIGINAL"), DicomValidationProblemCode.VMMismatch, "(0008,0008)" },
        { "binary VM 1 given 2", ds => ds.AddOrUpdate(DicomTags.Rows, DicomVR.US, 2, 2), DicomValidationProblemCode.VMMismatch, "(0028,0010)" },
        { "tab in LO", ds => ds.AddOrUpdate(DicomTags.Manufacturer, "Ying\tyun"), DicomValidationProblemCode.IllegalCharacter, "(0008,0070)" },
        { "NUL padded LO", ds => Raw(ds, DicomTags.Manufacturer, DicomVR.LO, "Yingyun\0"), DicomValidationProblemCode.IllegalCharacter, "(0008,0070)" },
        { "BEL in LT", ds => ds.AddOrUpdate(DicomTags.ImageComments, DicomVR.LT, "ring\u0007"), DicomValidationProblemCode.IllegalCharacter, "(0020,4000)" },
        { "control in AE", ds => ds.AddOrUpdate(DicomTags.StationAETitle, DicomVR.AE, "PACS\u0001"), DicomValidationProblemCode.IllegalCharacter, "(0008,0055)" },
        { "space in UR", ds => ds.AddOrUpdate(DicomTags.RetrieveURL, DicomVR.UR, "http://host/a b"), DicomValidationProblemCode.IllegalCharacter, "(0008,1190)" },
        { "odd length", ds => Raw(ds, DicomTags.AccessionNumber, DicomVR.SH, "ABC"), DicomValidationProblemCode.OddLength, "(0008,0050)" },
        { "SH of 17", ds => ds.AddOrUpdate(DicomTags.AccessionNumber, new string('A', 17)), DicomValidationProblemCode.ValueTooLong, "(0008,0050)" },
        { "LO of 65", ds => ds.AddOrUpdate(DicomTags.Manufacturer, new string('A', 65)), DicomValidationProblemCode.ValueTooLong, "(0008,0070)" },
        { "DS of 17", ds => Raw(ds, DicomTags.SliceThickness, DicomVR.DS, "1.0000000000000000"), DicomValidationProblemCode.ValueTooLong, "(0018,0050)" },
        { "PN group of 65", ds => ds.AddOrUpdate(DicomTags.PatientName, new DicomPersonName(new string('A', 65))), DicomValidationProblemCode.ValueTooLong, "(0010,0010)" },
        { "legacy date", ds => ds.AddOrUpdate(DicomTags.StudyDate, DicomVR.DA, "2024.01.02"), DicomValidationProblemCode.InvalidDate, "(0008,0020)" },
        { "no such date", ds => ds.AddOrUpdate(DicomTags.StudyDate, DicomVR.DA, "20230229"), DicomValidationProblemCode.InvalidDate, "(0008,0020)" },
        { "legacy time", ds => ds.AddOrUpdate(DicomTags.StudyTime, DicomVR.TM, "12:30:00"), DicomValidationProblemCode.InvalidTime, "(0008,0030)" },
        { "hour 25", ds => ds.AddOrUpdate(DicomTags.StudyTime, DicomVR.TM, "2500"), DicomValidationProblemCode.InvalidTime, "(0008,0030)" },
        { "month 13", ds => ds.AddOrUpdate(DicomTags.AcquisitionDateTime, DicomVR.DT, "20241301"), DicomValidationProblemCode.InvalidDateTime, "(0008,002A)" },
        { "offset +1500", ds => ds.AddOrUpdate(DicomTags.AcquisitionDateTime, DicomVR.DT, "20240101+1500"), DicomValidationProblemCode.InvalidDateTime, "(0008,002A)" },
        { "comma in DS", ds => ds.AddOrUpdate(DicomTags.SliceThickness, DicomVR.DS, "1,5"), DicomValidationProblemCode.InvalidNumber, "(0018,0050)" },
        { "fraction in IS", ds => ds.AddOrUpdate(DicomTags.InstanceNumber, DicomVR.IS, "1.5"), DicomValidationProblemCode.InvalidNumber, "(0020,0013)" },
        { "IS beyond 2^31", ds => ds.AddOrUpdate(DicomTags.InstanceNumber, DicomVR.IS, "2147483648"), DicomValidationProblemCode.InvalidNumber, "(0020,0013)" },
        { "lower-case CS", ds => ds.AddOrUpdate(DicomTags.Modality, "ct"), DicomValidationProblemCode.InvalidCodeString, "(0008,0060)" },
        { "hyphen in CS", ds => ds.AddOrUpdate(DicomTags.PatientSex, "M-"), DicomValidationProblemCode.InvalidCodeString, "(0010,0040)" },
        { "age without 3 digits", ds => ds.AddOrUpdate(DicomTags.PatientAge, DicomVR.AS, "45Y"), DicomValidationProblemCode.InvalidAge, "(0010,1010)" },
        { "four PN groups", ds => ds.AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "a=b=c=d"), DicomValidationProblemCode.InvalidPersonName, "(0010,0010)" },
        { "six PN components", ds => ds.AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "a^b^c^d^e^f"), DicomValidationProblemCode.InvalidPersonName, "(0010,0010)" },
        { "Latin-1 without character set", ds => Raw(ds, DicomTags.Manufacturer, DicomVR.LO, "Soci\u00e9t\u00e9 "), DicomValidationProblemCode.UndecodableCharacters, "(0008,0070)" },
        { "UL of 6 bytes", ds => ds.AddOrUpdate(new DicomElement(DicomTags.SimpleFrameList, DicomVR.UL, new byte[6])), DicomValidationProblemCode.InvalidLength, "(0008,1161)" },
        { "private element without creator", ds => ds.AddOrUpdate(new DicomElement(new DicomTag(0x0031, 0x1001), DicomVR.UN, new byte[2])), DicomValidationProblemCode.MissingPrivateCreator, "(0031,1001)" },
        { "missing Study Instance UID", ds => ds.Remove(DicomTags.StudyInstanceUID), DicomValidationProblemCode.MissingType1, "(0020,000D)" },
        { "missing SOP Class UID", ds => ds.Remove(DicomTags.SOPClassUID), DicomValidationProblemCode.MissingType1, "(0008,0016)" },
        { "missing Rows with Pixel Data", ds => ds.Remove(DicomTags.Rows), DicomValidationProblemCode.MissingType1, "(0028,0010)" },
        { "missing Rescale Slope in CT", ds => ds.Remove(DicomTags.RescaleSlope), DicomValidationProblemCode.MissingType1, "(0028,1053)" },
        { "missing Image Position in CT", ds => ds.Remove(DicomTags.ImagePositionPatient), DicomValidationProblemCode.MissingType1, "(0020,0032)" },
        { "empty Modality", ds => ds.AddOrUpdate(DicomTags.Modality, Array.Empty<string>()), DicomValidationProblemCode.EmptyType1, "(0008,0060)" },
        { "Modality of spaces", ds => Raw(ds, DicomTags.Modality, DicomVR.CS, "  "), DicomValidationProblemCode.EmptyType1, "(0008,0060)" },
        { "empty Series Instance UID", ds => ds.AddOrUpdate(DicomTags.SeriesInstanceUID, Array.Empty<string>()), DicomValidationProblemCode.EmptyType1, "(0020,000E)" },
        { "missing Patient ID", ds => ds.Remove(DicomTags.PatientID), DicomValidationProblemCode.MissingType2, "(0010,0020)" },
        { "missing KVP in CT", ds => ds.Remove(DicomTags.KVP), DicomValidationProblemCode.MissingType2, "(0018,0060)" },
        { "planar configuration for RGB", ds => ds.AddOrUpdate(DicomTags.SamplesPerPixel, (ushort)3), DicomValidationProblemCode.MissingType1, "(0028,0006)" },
        {
            "bad value inside a sequence item",
            ds => ((DicomSequence)ds[DicomTags.RequestAttributesSequence]!).Items[0].AddOrUpdate(DicomTags.ScheduledProcedureStepID, "SPS\u0001"),
            DicomValidationProblemCode.IllegalCharacter, "(0040,0275)[0].(0040,0009)"
        },
        {
            "two levels down",
            ds => ((DicomSequence)ds[DicomTags.RequestAttributesSequence]!).Items[0]
                .AddOrUpdate(new DicomSequence(DicomTags.ScheduledProtocolCodeSequence, new DicomDataset(), new DicomDataset().AddOrUpdate(DicomTags.CodeValue, DicomVR.SH, "X\u0002"))),
            DicomValidationProblemCode.IllegalCharacter, "(0040,0275)[0].(0040,0008)[1].(0008,0100)"
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_check_fires_with_the_tag_path(string why, Action<DicomDataset> spoil, DicomValidationProblemCode code, string path)
    {
        var ds = CleanCT();
        spoil(ds);
        var problems = DicomValidator.Validate(ds);
        problems.Should().ContainSingle(why).Which.Should().Match<DicomValidationProblem>(p => p.Code == code && p.TagPath == path);
        problems[0].Message.Should().NotBeNullOrWhiteSpace();
    }

    [Fact]
    public void Text_in_a_declared_character_set_is_checked_after_decoding()
    {
        var ds = CleanCT().AddOrUpdate(DicomTag.SpecificCharacterSetTag, DicomVR.CS, "ISO_IR 100");
        Raw(ds, DicomTags.Manufacturer, DicomVR.LO, "Soci\u00e9t\u00e9 ");
        DicomValidator.Validate(ds).Should().BeEmpty();
        Raw(ds, DicomTags.Manufacturer, DicomVR.LO, "Soci\u00e9t\u00e9\t");
        DicomValidator.Validate(ds).Should().ContainSingle().Which.Should().Match<DicomValidationProblem>(
            p => p.Code == DicomValidationProblemCode.IllegalCharacter && p.Value == "Soci\u00e9t\u00e9\t");
    }

    [Fact]
    public void Bytes_that_are_not_UTF_8_are_undecodable_in_ISO_IR_192()
    {
        var ds = CleanCT().AddOrUpdate(DicomTag.SpecificCharacterSetTag, DicomVR.CS, "ISO_IR 192");
        ds.AddOrUpdate(new DicomElement(DicomTags.Manufacturer, DicomVR.LO, new byte[] { 0x41, 0xC3, 0x28, 0x20 }));
        DicomValidator.Validate(ds).Should().ContainSingle().Which.Code.Should().Be(DicomValidationProblemCode.UndecodableCharacters);
    }

    [Fact]
    public void MR_image_module_attributes_are_checked_for_MR_only()
    {
        var mr = CleanMR();
        mr.Remove(DicomTags.ScanningSequence);
        mr.Remove(DicomTags.EchoTime);
        DicomValidator.Validate(mr).Select(p => (p.Code, p.Tag)).Should().Equal(new[]
        {
            (DicomValidationProblemCode.MissingType1, DicomTags.ScanningSequence),
            (DicomValidationProblemCode.MissingType2, DicomTags.EchoTime),
        });

        var ct = CleanCT();
        ct.Contains(DicomTags.ScanningSequence).Should().BeFalse();
        DicomValidator.Validate(ct).Should().BeEmpty();
    }

    [Fact]
    public void Image_pixel_attributes_are_required_only_with_pixel_data()
    {
        var sc = CleanCT().AddOrUpdate(DicomTags.SOPClassUID, DicomUids.SecondaryCaptureImageStorage);
        sc.Remove(DicomTags.Rows);
        DicomValidator.Validate(sc).Should().ContainSingle().Which.Tag.Should().Be(DicomTags.Rows);
        sc.Remove(DicomTags.PixelData);
        DicomValidator.Validate(sc).Should().BeEmpty();
    }

    [Fact]
    public void Attributes_of_several_modules_are_reported_once()
    {
        var ds = CleanCT();
        ds.Remove(DicomTags.BitsAllocated); // Image Pixel and CT Image
        DicomValidator.Validate(ds).Should().ContainSingle().Which.Tag.Should().Be(DicomTags.BitsAllocated);
    }

    [Fact]
    public void An_element_with_many_bad_values_counts_once_per_code()
    {
        var ds = CleanCT().AddOrUpdate(DicomTags.ImageType, DicomVR.CS, "original", "primary", "axial");
        DicomValidator.Validate(ds).Should().ContainSingle().Which.Value.Should().Be("original");
    }

    [Fact]
    public void Offending_values_are_truncated()
    {
        var ds = CleanCT().AddOrUpdate(DicomTags.ImageComments, DicomVR.LT, new string('x', 500) + "\u0007");
        var problem = DicomValidator.Validate(ds, new DicomValidationOptions { MaxValueLength = 20 }).Should().ContainSingle().Subject;
        problem.Value.Should().HaveLength(21).And.EndWith("…");
    }

    [Fact]
    public void Options_switch_checks_and_limit_the_count()
    {
        var ds = CleanCT().AddOrUpdate(DicomTags.Modality, "ct");
        ds.Remove(DicomTags.StudyInstanceUID);
        DicomValidator.Validate(ds, new DicomValidationOptions { CheckValues = false }).Should().ContainSingle().Which.Code.Should().Be(DicomValidationProblemCode.MissingType1);
        DicomValidator.Validate(ds, new DicomValidationOptions { CheckAttributeTypes = false }).Should().ContainSingle().Which.Code.Should().Be(DicomValidationProblemCode.InvalidCodeString);
        DicomValidator.Validate(ds, new DicomValidationOptions { MaxProblems = 1 }).Should().HaveCount(1);
        DicomValidator.Validate(ds).Should().HaveCount(2);
    }

    [Theory]
    [InlineData(DicomVR.DA, "20240101-20240131")]
    [InlineData(DicomVR.DA, "-20240131")]
    [InlineData(DicomVR.TM, "0800-1200")]
    [InlineData(DicomVR.DT, "20240101-0500-20240102+0800")]
    public void Query_ranges_are_accepted_only_when_allowed(DicomVR vr, string value)
    {
        var tag = vr switch { DicomVR.DA => DicomTags.StudyDate, DicomVR.TM => DicomTags.StudyTime, _ => DicomTags.AcquisitionDateTime };
        var ds = new DicomDataset().AddOrUpdate(tag, vr, value);
        var options = new DicomValidationOptions { CheckAttributeTypes = false };
        DicomValidator.Validate(ds, options).Should().ContainSingle();
        DicomValidator.Validate(ds, options with { AllowRanges = true }).Should().BeEmpty();
    }

    [Fact]
    public void Values_on_disk_get_length_checks_only()
    {
        var ds = CleanCT();
        var source = new MemoryBulkDataSource(new byte[9]);
        ds.AddOrUpdate(new DicomElement(DicomTags.PixelData, DicomVR.OW, new DicomValue(new BulkDataReference(source, 0, 9))));
        DicomValidator.Validate(ds).Should().ContainSingle().Which.Code.Should().Be(DicomValidationProblemCode.OddLength);
    }

    [Theory]
    [InlineData("1", 1, 1, 1)]
    [InlineData("1-n", 1, int.MaxValue, 1)]
    [InlineData("2-2n", 2, int.MaxValue, 2)]
    [InlineData("3-3n", 3, int.MaxValue, 3)]
    [InlineData("1-3", 1, 3, 1)]
    [InlineData("6-n", 6, int.MaxValue, 1)]
    public void Value_multiplicities_of_PS3_6_parse(string text, int min, int max, int step)
    {
        DicomValueMultiplicity.TryParse(text, out var vm).Should().BeTrue();
        vm.Should().Be(new DicomValueMultiplicity(min, max, step));
        vm.ToString().Should().Be(text);
    }

    [Fact]
    public void Value_multiplicity_steps()
    {
        DicomValueMultiplicity.TryParse("2-2n", out var vm).Should().BeTrue();
        vm.Allows(2).Should().BeTrue();
        vm.Allows(3).Should().BeFalse();
        vm.Allows(4).Should().BeTrue();
        vm.Allows(0).Should().BeFalse();
        DicomValueMultiplicity.TryParse("x", out _).Should().BeFalse();
        DicomValueMultiplicity.TryParse("3-1", out _).Should().BeFalse();
    }

    [Fact]
    public void Every_dictionary_value_multiplicity_parses()
    {
        foreach (var entry in DicomDictionary.Entries)
            DicomValueMultiplicity.TryParse(entry.ValueMultiplicity, out _).Should().BeTrue(entry.ToString());
    }
}
