namespace Yingyun.Dicom.Tests;

public class DictionaryTests
{
    [Fact]
    public void Looks_up_by_tag_and_keyword()
    {
        DicomDictionary.TryGet(new DicomTag(0x0010, 0x0010), out var e).Should().BeTrue();
        e!.Keyword.Should().Be("PatientName");
        e.VR.Should().Be(DicomVR.PN);
        e.Name.Should().Be("Patient's Name");
        DicomDictionary.TryGetByKeyword("StudyInstanceUID", out var s).Should().BeTrue();
        s!.Tag.Should().Be(new DicomTag(0x0020, 0x000D));
        DicomTags.PixelData.Should().Be(DicomTag.PixelDataTag);
    }

    [Fact]
    public void Repeating_groups_and_private_tags_resolve()
    {
        DicomDictionary.TryGet(new DicomTag(0x6002, 0x3000), out var overlay).Should().BeTrue();
        overlay!.Keyword.Should().Be("OverlayData");
        DicomDictionary.GetImplicitVR(new DicomTag(0x0029, 0x0010)).Should().Be(DicomVR.LO);
        DicomDictionary.GetImplicitVR(new DicomTag(0x0029, 0x1010)).Should().Be(DicomVR.UN);
        DicomDictionary.GetImplicitVR(new DicomTag(0x0028, 0x0000)).Should().Be(DicomVR.UL);
        DicomDictionary.TryGet(new DicomTag(0x0028, 0x0106), out var ambiguous).Should().BeTrue();
        ambiguous!.ValueRepresentations.Should().Equal(DicomVR.US, DicomVR.SS);
    }

    [Fact]
    public void Transfer_syntaxes_know_their_encoding()
    {
        DicomTransferSyntax.Parse("1.2.840.10008.1.2\0").Should().BeSameAs(DicomTransferSyntax.ImplicitVRLittleEndian);
        DicomTransferSyntax.ExplicitVRBigEndian.IsBigEndian.Should().BeTrue();
        DicomTransferSyntax.Parse("1.2.840.10008.1.2.4.90").IsEncapsulated.Should().BeTrue();
        var unknown = DicomTransferSyntax.Parse("1.2.3.4.5");
        unknown.IsExplicitVR.Should().BeTrue();
        unknown.IsEncapsulated.Should().BeTrue();
        unknown.IsRegistered.Should().BeFalse();
        DicomTransferSyntax.Parse("1.2.3.4.5").Should().NotBeSameAs(unknown, "unregistered UIDs from peers are not cached");
        DicomTransferSyntax.Parse("1.2.3.4.5").Should().Be(unknown);
        DicomTag.Parse("PatientID").Should().Be(new DicomTag(0x0010, 0x0020));
        DicomTag.Parse("(0008,0018)").Should().Be(DicomTags.SOPInstanceUID);
    }
}
