using Yingyun.Archive.Index;
using Yingyun.Archive.Ingest;
using Yingyun.Archive.Tenants;
using Yingyun.Dicom;
using Yingyun.Dimse;

namespace Yingyun.Archive.Tests.Index;

/// <summary>C-FIND matching (PS3.4 §C.2.2.2) at every level of both models, through <see cref="IndexQueryHandler"/>
/// over a SQLite index: the table of cases, return keys, tenants, hierarchical and relational rules, retrieval.</summary>
public sealed class QueryMatchingTests : IAsyncLifetime
{
    private const string StudyRoot = DicomUids.StudyRootQueryRetrieveInformationModelFind;
    private const string PatientRoot = DicomUids.PatientRootQueryRetrieveInformationModelFind;

    private TestIndex _index = null!;
    private TenantDirectory _tenants = null!;
    private IndexQueryHandler _handler = null!;

    public async Task InitializeAsync()
    {
        _index = await TestIndex.CreateAsync();
        var store = _index.Store;
        _tenants = new TenantDirectory(store);
        await _tenants.InitializeAsync([new TenantConfig { Id = "a", AeTitles = ["SCU_A"] }, new TenantConfig { Id = "b", AeTitles = ["SCU_B"] }]);
        _handler = new IndexQueryHandler(store, _tenants, _index.BlobRoot);
        long v = 1000;
        InstanceEvent E(string tenant, string patient, string name, string birth, string study, string date, string time, string accession, string description,
            string series, string modality, int seriesNumber, string seriesDescription, string sop, int instanceNumber, string? referring = null)
        {
            var e = TestEvents.Make(tenant, patient, study, series, sop, v++, modality, name, date, time, accession, description, seriesNumber, instanceNumber,
                seriesDescription, referring);
            e.PatientBirthDate = birth;
            return e;
        }
        const string wang = "Wang^XiaoDong=王^小东=";
        await store.ApplyInstancesAsync([
            E("a", "P1", wang, "19800101", "1.2.1", "20200115", "093000", "A1", "CT Chest", "1.2.1.1", "CT", 1, "Axial", "1.2.1.1.1", 1, "Li^Hua"),
            E("a", "P1", wang, "19800101", "1.2.1", "20200115", "093000", "A1", "CT Chest", "1.2.1.1", "CT", 1, "Axial", "1.2.1.1.2", 2, "Li^Hua"),
            E("a", "P1", wang, "19800101", "1.2.1", "20200115", "093000", "A1", "CT Chest", "1.2.1.2", "PR", 2, "Presentation", "1.2.1.2.1", 1, "Li^Hua"),
            E("a", "P1", wang, "19800101", "1.2.2", "20201231", "235959", "A2", "MR Brain", "1.2.2.1", "MR", 1, "T1", "1.2.2.1.1", 1),
            E("a", "P1", wang, "19800101", "1.2.2", "20201231", "235959", "A2", "MR Brain", "1.2.2.1", "MR", 1, "T1", "1.2.2.1.2", 2),
            E("a", "P1", wang, "19800101", "1.2.2", "20201231", "235959", "A2", "MR Brain", "1.2.2.1", "MR", 1, "T1", "1.2.2.1.3", 3),
            E("a", "P2", "Müller^Jürgen", "19751224", "1.2.3", "20210301", "1030", "A3", "CT Abdomen", "1.2.3.1", "CT", 1, "Venous", "1.2.3.1.1", 1),
            E("a", "P3", "Buc^Jérôme", "19600606", "1.2.4", "20191231", "080000", "B4", "US Liver", "1.2.4.1", "US", 1, "Liver", "1.2.4.1.1", 1),
            E("a", "P4'", "O'Brien^Pat", "19700101", "1.2.5", "20180101", "120000", "C5", "X[1] Hand", "1.2.5.1", "CR", 1, "Hand", "1.2.5.1.1", 1),
            E("b", "P1", "Other^Name", "19900101", "1.2.1", "20200115", "093000", "A1", "CT Chest", "1.2.1.1", "CT", 1, "Axial", "1.2.1.1.1", 1),
        ]);
    }

    public async Task DisposeAsync() => await _index.DisposeAsync();

    private static QueryRequest Request(string model, string level, string callingAe, params string[] keys)
    {
        var identifier = new DicomDataset();
        identifier.AddOrUpdate(DicomTag.SpecificCharacterSetTag, DicomVR.CS, "ISO_IR 192");
        identifier.AddOrUpdate(QueryRetrieve.QueryRetrieveLevel, DicomVR.CS, level);
        foreach (var key in keys)
        {
            int eq = key.IndexOf('=', StringComparison.Ordinal);
            string keyword = eq < 0 ? key : key[..eq], value = eq < 0 ? "" : key[(eq + 1)..];
            DicomDictionary.TryGetByKeyword(keyword, out var entry).Should().BeTrue(keyword);
            if (entry!.VR == DicomVR.SQ) identifier.AddOrUpdate(new DicomSequence(entry.Tag));
            else if (entry.VR == DicomVR.US)
            {
                if (value.Length == 0) identifier.AddOrUpdate(new DicomElement(entry.Tag, DicomVR.US, ReadOnlyMemory<byte>.Empty));
                else identifier.AddOrUpdate(entry.Tag, DicomVR.US, ushort.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
            }
            else identifier.AddOrUpdate(entry.Tag, entry.VR, value.Length == 0 ? [] : value.Split('\\'));
        }
        return new QueryRequest(model, identifier, level, DimsePriority.Medium, callingAe, "YINGYUN", null, null);
    }

    private async Task<List<DicomDataset>> FindAsync(IndexQueryHandler handler, QueryRequest request)
    {
        var answers = new List<DicomDataset>();
        await foreach (var answer in handler.FindAsync(request, CancellationToken.None)) answers.Add(answer);
        return answers;
    }

    private Task<List<DicomDataset>> FindAsync(string model, string level, params string[] keys) => FindAsync(_handler, Request(model, level, "SCU_A", keys));

    private static DicomTag UniqueKey(string level) => IndexAttributes.UniqueKey(level switch
    {
        "PATIENT" => IndexLevel.Patient,
        "STUDY" => IndexLevel.Study,
        "SERIES" => IndexLevel.Series,
        _ => IndexLevel.Instance,
    });

    public static TheoryData<string, string, string[], string[]> Cases => new()
    {
        // Study Root, STUDY level: person names (case-insensitive, any component group), dates, times, UID lists,
        // modalities in study, wildcards on case-sensitive text.
        { "S", "STUDY", ["PatientName=wang*"], ["1.2.1", "1.2.2"] },
        { "S", "STUDY", ["PatientName=王*"], ["1.2.1", "1.2.2"] },
        { "S", "STUDY", ["PatientName=王^小东"], ["1.2.1", "1.2.2"] },
        { "S", "STUDY", ["PatientName=Wang^XiaoDong=王^小东"], ["1.2.1", "1.2.2"] },
        { "S", "STUDY", ["PatientName==王^小东"], ["1.2.1", "1.2.2"] },
        { "S", "STUDY", ["PatientName=Wang^XiaoDong=李*"], [] },
        { "S", "STUDY", ["PatientName=müller^jürgen"], ["1.2.3"] },
        { "S", "STUDY", ["PatientName=MÜLLER*"], ["1.2.3"] },
        { "S", "STUDY", ["PatientName=Buc^J?r?me"], ["1.2.4"] },
        { "S", "STUDY", ["PatientName=Buc"], [] },
        { "S", "STUDY", ["PatientName=O'Brien*"], ["1.2.5"] },
        { "S", "STUDY", ["PatientName="], ["1.2.1", "1.2.2", "1.2.3", "1.2.4", "1.2.5"] },
        { "S", "STUDY", ["PatientName=*"], ["1.2.1", "1.2.2", "1.2.3", "1.2.4", "1.2.5"] },
        { "S", "STUDY", ["PatientID=P1"], ["1.2.1", "1.2.2"] },
        { "S", "STUDY", ["PatientID=p1"], [] },
        { "S", "STUDY", ["PatientID=P4'"], ["1.2.5"] },
        { "S", "STUDY", ["PatientBirthDate=19700101-19800101"], ["1.2.1", "1.2.2", "1.2.3", "1.2.5"] },
        { "S", "STUDY", ["StudyDate=20200101-20201231"], ["1.2.1", "1.2.2"] },
        { "S", "STUDY", ["StudyDate=-20191231"], ["1.2.4", "1.2.5"] },
        { "S", "STUDY", ["StudyDate=20210101-"], ["1.2.3"] },
        { "S", "STUDY", ["StudyDate=20200115"], ["1.2.1"] },
        { "S", "STUDY", ["StudyDate=2020.01.15"], ["1.2.1"] },
        { "S", "STUDY", ["StudyTime=0930"], ["1.2.1"] },
        { "S", "STUDY", ["StudyTime=1000-1100"], ["1.2.3"] },
        { "S", "STUDY", ["StudyTime=2359-"], ["1.2.2"] },
        { "S", "STUDY", ["StudyTime=-0800"], ["1.2.4"] },
        { "S", "STUDY", ["StudyDate=20200101-20201231", "StudyTime=-1200"], ["1.2.1"] },
        { "S", "STUDY", ["StudyInstanceUID=1.2.1\\1.2.3"], ["1.2.1", "1.2.3"] },
        { "S", "STUDY", ["StudyInstanceUID=1.2.9"], [] },
        { "S", "STUDY", ["ModalitiesInStudy=PR"], ["1.2.1"] },
        { "S", "STUDY", ["ModalitiesInStudy=CT\\US"], ["1.2.1", "1.2.3", "1.2.4"] },
        { "S", "STUDY", ["ModalitiesInStudy=M*"], ["1.2.2"] },
        { "S", "STUDY", ["AccessionNumber=A?"], ["1.2.1", "1.2.2", "1.2.3"] },
        { "S", "STUDY", ["StudyDescription=CT*"], ["1.2.1", "1.2.3"] },
        { "S", "STUDY", ["StudyDescription=ct*"], [] },
        { "S", "STUDY", ["StudyDescription=*Hand"], ["1.2.5"] },
        { "S", "STUDY", ["StudyDescription=X[1]*"], ["1.2.5"] },
        { "S", "STUDY", ["StudyDescription=X1*"], [] },
        { "S", "STUDY", ["ReferringPhysicianName=li^hua"], ["1.2.1"] },
        { "S", "STUDY", ["PatientName=wang*", "StudyDescription=MR*"], ["1.2.2"] },

        // Study Root, SERIES and IMAGE levels.
        { "S", "SERIES", ["StudyInstanceUID=1.2.1"], ["1.2.1.1", "1.2.1.2"] },
        { "S", "SERIES", ["StudyInstanceUID=1.2.1", "Modality=CT"], ["1.2.1.1"] },
        { "S", "SERIES", ["StudyInstanceUID=1.2.1", "Modality=CT\\PR"], ["1.2.1.1", "1.2.1.2"] },
        { "S", "SERIES", ["StudyInstanceUID=1.2.1", "SeriesNumber=2"], ["1.2.1.2"] },
        { "S", "SERIES", ["StudyInstanceUID=1.2.1", "SeriesDescription=Ax*"], ["1.2.1.1"] },
        { "S", "SERIES", ["StudyInstanceUID=1.2.1", "SeriesInstanceUID=1.2.1.2\\1.2.2.1"], ["1.2.1.2"] },
        { "S", "IMAGE", ["StudyInstanceUID=1.2.1", "SeriesInstanceUID=1.2.1.1"], ["1.2.1.1.1", "1.2.1.1.2"] },
        { "S", "IMAGE", ["StudyInstanceUID=1.2.1", "SeriesInstanceUID=1.2.1.1", "InstanceNumber=2"], ["1.2.1.1.2"] },
        { "S", "IMAGE", ["StudyInstanceUID=1.2.1", "SeriesInstanceUID=1.2.1.1", "Rows=512"], ["1.2.1.1.1", "1.2.1.1.2"] },
        { "S", "IMAGE", ["StudyInstanceUID=1.2.1", "SeriesInstanceUID=1.2.1.1", "Rows=256"], [] },
        { "S", "IMAGE", ["StudyInstanceUID=1.2.2", "SeriesInstanceUID=1.2.2.1", "SOPInstanceUID=1.2.2.1.1\\1.2.2.1.3"], ["1.2.2.1.1", "1.2.2.1.3"] },
        { "S", "IMAGE", ["StudyInstanceUID=1.2.2", "SeriesInstanceUID=1.2.2.1", "SOPClassUID=1.2.840.10008.5.1.4.1.1.2"], ["1.2.2.1.1", "1.2.2.1.2", "1.2.2.1.3"] },

        // Patient Root at every level.
        { "P", "PATIENT", ["PatientName=*"], ["P1", "P2", "P3", "P4'"] },
        { "P", "PATIENT", ["PatientID=P?"], ["P1", "P2", "P3"] },
        { "P", "PATIENT", ["PatientBirthDate=19800101"], ["P1"] },
        { "P", "PATIENT", ["PatientName=*rôme"], ["P3"] },
        { "P", "STUDY", ["PatientID=P1"], ["1.2.1", "1.2.2"] },
        { "P", "STUDY", ["PatientID=P1", "StudyDate=20210101-"], [] },
        { "P", "STUDY", ["PatientID=P1", "ModalitiesInStudy=MR"], ["1.2.2"] },
        { "P", "SERIES", ["PatientID=P1", "StudyInstanceUID=1.2.2"], ["1.2.2.1"] },
        { "P", "IMAGE", ["PatientID=P2", "StudyInstanceUID=1.2.3", "SeriesInstanceUID=1.2.3.1"], ["1.2.3.1.1"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Matches(string root, string level, string[] keys, string[] expected)
    {
        var unique = UniqueKey(level);
        string uniqueKeyword = DicomDictionary.GetKeyword(unique);
        var all = keys.Any(k => k.StartsWith(uniqueKeyword + "=", StringComparison.Ordinal)) ? keys : [.. keys, uniqueKeyword];
        var answers = await FindAsync(root == "S" ? StudyRoot : PatientRoot, level, all);
        answers.Select(a => a.GetString(unique)).Should().BeEquivalentTo(expected);
    }

    [Fact]
    public async Task Answers_carry_exactly_the_requested_keys_with_the_index_values()
    {
        var answers = await FindAsync(StudyRoot, "STUDY", "StudyInstanceUID=1.2.1", "PatientName", "PatientComments", "StudyDate", "StudyTime",
            "ModalitiesInStudy", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances", "ReferencedStudySequence");
        var answer = answers.Should().ContainSingle().Subject;
        answer.Select(i => i.Tag).Should().Equal(
            DicomTag.SpecificCharacterSetTag, DicomTags.StudyDate, DicomTags.StudyTime, DicomTags.ModalitiesInStudy, DicomTags.ReferencedStudySequence,
            DicomTags.PatientName, DicomTags.PatientComments, DicomTags.StudyInstanceUID, DicomTags.NumberOfStudyRelatedSeries,
            DicomTags.NumberOfStudyRelatedInstances);
        answer.GetString(DicomTag.SpecificCharacterSetTag).Should().Be("ISO_IR 192");
        answer.GetString(DicomTags.PatientName).Should().Be("Wang^XiaoDong=王^小东=");
        answer.GetString(DicomTags.PatientComments).Should().BeEmpty("an attribute the index does not hold is answered zero-length");
        answer.GetStrings(DicomTags.ModalitiesInStudy).Should().Equal("CT", "PR");
        answer.GetString(DicomTags.StudyDate).Should().Be("20200115");
        answer.GetString(DicomTags.StudyTime).Should().Be("093000");
        answer.GetString(DicomTags.NumberOfStudyRelatedSeries).Should().Be("2");
        answer.GetString(DicomTags.NumberOfStudyRelatedInstances).Should().Be("3");
        answer.TryGetSequence(DicomTags.ReferencedStudySequence, out var sequence).Should().BeTrue();
        sequence!.Items.Should().BeEmpty();
    }

    [Fact]
    public async Task Retrieve_AE_title_and_availability_are_answered()
    {
        var answer = (await FindAsync(StudyRoot, "SERIES", "StudyInstanceUID=1.2.2", "SeriesInstanceUID", "RetrieveAETitle", "InstanceAvailability"))
            .Should().ContainSingle().Subject;
        answer.GetString(DicomTags.RetrieveAETitle).Should().Be("YINGYUN");
        answer.GetString(DicomTags.InstanceAvailability).Should().Be("ONLINE");
    }

    [Fact]
    public async Task Counts_at_patient_and_series_level()
    {
        var patient = (await FindAsync(PatientRoot, "PATIENT", "PatientID=P1", "NumberOfPatientRelatedStudies", "NumberOfPatientRelatedSeries",
            "NumberOfPatientRelatedInstances")).Should().ContainSingle().Subject;
        patient.GetString(DicomTags.NumberOfPatientRelatedStudies).Should().Be("2");
        patient.GetString(DicomTags.NumberOfPatientRelatedSeries).Should().Be("3");
        patient.GetString(DicomTags.NumberOfPatientRelatedInstances).Should().Be("6");
        var series = (await FindAsync(StudyRoot, "SERIES", "StudyInstanceUID=1.2.1", "SeriesInstanceUID=1.2.1.1", "NumberOfSeriesRelatedInstances", "Modality",
            "SeriesNumber")).Should().ContainSingle().Subject;
        series.GetString(DicomTags.NumberOfSeriesRelatedInstances).Should().Be("2");
        series.GetString(DicomTags.Modality).Should().Be("CT");
        series.GetString(DicomTags.SeriesNumber).Should().Be("1");
        var image = (await FindAsync(StudyRoot, "IMAGE", "StudyInstanceUID=1.2.1", "SeriesInstanceUID=1.2.1.1", "SOPInstanceUID=1.2.1.1.2", "Rows", "InstanceNumber"))
            .Should().ContainSingle().Subject;
        image.GetValue<ushort>(DicomTags.Rows).Should().Be(512);
        image.GetString(DicomTags.InstanceNumber).Should().Be("2");
    }

    [Fact]
    public async Task A_tenant_sees_only_its_own_data()
    {
        var b = await FindAsync(_handler, Request(StudyRoot, "STUDY", "SCU_B", "StudyInstanceUID", "PatientName"));
        b.Should().ContainSingle().Which.GetString(DicomTags.PatientName).Should().Be("Other^Name");
        var a = await FindAsync(StudyRoot, "STUDY", "StudyInstanceUID=1.2.1", "PatientName");
        a.Should().ContainSingle().Which.GetString(DicomTags.PatientName).Should().Be("Wang^XiaoDong=王^小东=");
        var unknown = async () => await FindAsync(_handler, Request(StudyRoot, "STUDY", "STRANGER", "StudyInstanceUID"));
        await unknown.Should().ThrowAsync<IndexQueryException>().WithMessage("*STRANGER*");
    }

    [Fact]
    public async Task Hierarchical_queries_need_the_unique_keys_above_the_level()
    {
        await Refused(StudyRoot, "SERIES", "SeriesInstanceUID");
        await Refused(StudyRoot, "SERIES", "StudyInstanceUID=1.2.*", "SeriesInstanceUID");
        await Refused(StudyRoot, "SERIES", "StudyInstanceUID=1.2.1\\1.2.2", "SeriesInstanceUID");
        await Refused(StudyRoot, "IMAGE", "StudyInstanceUID=1.2.1", "SOPInstanceUID");
        await Refused(PatientRoot, "STUDY", "StudyInstanceUID");
        await Refused(PatientRoot, "IMAGE", "StudyInstanceUID=1.2.1", "SeriesInstanceUID=1.2.1.1", "SOPInstanceUID");

        async Task Refused(string model, string level, params string[] keys)
        {
            var act = async () => await FindAsync(model, level, keys);
            (await act.Should().ThrowAsync<IndexQueryException>()).WithMessage("* query needs one *hierarchical*PS3.4*");
        }
    }

    [Fact]
    public async Task Relational_queries_when_negotiated()
    {
        var relational = new IndexQueryHandler(_index.Store, _tenants, _index.BlobRoot) { RelationalQueriesAccepted = _ => true };
        var series = await FindAsync(relational, Request(StudyRoot, "SERIES", "SCU_A", "Modality=CT", "SeriesInstanceUID", "StudyInstanceUID"));
        series.Select(s => s.GetString(DicomTags.SeriesInstanceUID)).Should().BeEquivalentTo("1.2.1.1", "1.2.3.1");
        var images = await FindAsync(relational, Request(PatientRoot, "IMAGE", "SCU_A", "PatientName=müller*", "SOPInstanceUID"));
        images.Select(s => s.GetString(DicomTags.SOPInstanceUID)).Should().BeEquivalentTo("1.2.3.1.1");
        var byStudyDate = await FindAsync(relational, Request(StudyRoot, "IMAGE", "SCU_A", "StudyDate=20201231", "SOPInstanceUID"));
        byStudyDate.Should().HaveCount(3);
    }

    [Fact]
    public async Task Keys_below_the_query_level_are_answered_empty_and_not_matched()
    {
        var answers = await FindAsync(PatientRoot, "PATIENT", "PatientID", "StudyDate=20200115");
        answers.Select(a => a.GetString(DicomTags.PatientID)).Should().BeEquivalentTo("P1", "P2", "P3", "P4'");
        answers.Should().AllSatisfy(a => a.GetString(DicomTags.StudyDate).Should().BeEmpty());
    }

    [Fact]
    public async Task A_malformed_key_is_refused_with_its_name()
    {
        var act = async () => await FindAsync(StudyRoot, "STUDY", "StudyDate=2020-13-45", "StudyInstanceUID");
        (await act.Should().ThrowAsync<IndexQueryException>()).WithMessage("*(0008,0020)*StudyDate*");
        var time = async () => await FindAsync(StudyRoot, "STUDY", "StudyTime=2561", "StudyInstanceUID");
        (await time.Should().ThrowAsync<IndexQueryException>()).WithMessage("*StudyTime*");
    }

    [Fact]
    public async Task Keys_are_decoded_with_the_request_character_set()
    {
        // GB18030 request (PS3.5 §6.1.2.5.3); the answer is UTF-8.
        var identifier = new DicomDataset();
        identifier.AddOrUpdate(DicomTag.SpecificCharacterSetTag, DicomVR.CS, "GB18030");
        identifier.AddOrUpdate(QueryRetrieve.QueryRetrieveLevel, DicomVR.CS, "STUDY");
        identifier.AddOrUpdate(DicomTags.PatientName, DicomVR.PN, "王^小东");
        identifier.AddOrUpdate(DicomTags.StudyInstanceUID, DicomVR.UI, Array.Empty<string>());
        var answers = await FindAsync(_handler, new QueryRequest(StudyRoot, identifier, "STUDY", DimsePriority.Medium, "SCU_A", "YINGYUN", null, null));
        answers.Select(a => a.GetString(DicomTags.StudyInstanceUID)).Should().BeEquivalentTo("1.2.1", "1.2.2");
        answers.Should().AllSatisfy(a => a.GetString(DicomTags.PatientName).Should().Be("Wang^XiaoDong=王^小东="));
    }

    [Fact]
    public async Task Retrieve_returns_the_files_of_current_instances_of_the_tenant()
    {
        var study = await _handler.RetrieveAsync(Request(StudyRoot, "STUDY", "SCU_A", "StudyInstanceUID=1.2.1"), CancellationToken.None);
        study.Should().Equal(
            Path.Combine(_index.BlobRoot, "a", "1.2.1", "1.2.1.1", "1.2.1.1.1.dcm"),
            Path.Combine(_index.BlobRoot, "a", "1.2.1", "1.2.1.1", "1.2.1.1.2.dcm"),
            Path.Combine(_index.BlobRoot, "a", "1.2.1", "1.2.1.2", "1.2.1.2.1.dcm"));
        var series = await _handler.RetrieveAsync(Request(StudyRoot, "SERIES", "SCU_A", "StudyInstanceUID=1.2.2", "SeriesInstanceUID=1.2.2.1"), CancellationToken.None);
        series.Should().HaveCount(3);
        var images = await _handler.RetrieveAsync(Request(PatientRoot, "IMAGE", "SCU_A", "PatientID=P1", "StudyInstanceUID=1.2.2", "SeriesInstanceUID=1.2.2.1",
            "SOPInstanceUID=1.2.2.1.2\\1.2.2.1.3"), CancellationToken.None);
        images.Select(Path.GetFileName).Should().Equal("1.2.2.1.2.dcm", "1.2.2.1.3.dcm");
        var patient = await _handler.RetrieveAsync(Request(PatientRoot, "PATIENT", "SCU_A", "PatientID=P1"), CancellationToken.None);
        patient.Should().HaveCount(6);
        var otherTenant = await _handler.RetrieveAsync(Request(StudyRoot, "STUDY", "SCU_B", "StudyInstanceUID=1.2.1"), CancellationToken.None);
        otherTenant.Should().Equal(Path.Combine(_index.BlobRoot, "b", "1.2.1", "1.2.1.1", "1.2.1.1.1.dcm"));
        var noKey = async () => await _handler.RetrieveAsync(Request(StudyRoot, "STUDY", "SCU_A", "PatientID=P1"), CancellationToken.None);
        await noKey.Should().ThrowAsync<IndexQueryException>().WithMessage("*StudyInstanceUID*");
    }

    [Fact]
    public async Task Move_destinations_are_the_tenant_nodes()
    {
        await _index.Store.UpsertNodeAsync(new NodeConfig { Tenant = "a", AeTitle = "DEST", Host = "127.0.0.1", Port = 4242 });
        var request = Request(StudyRoot, "STUDY", "SCU_A", "StudyInstanceUID=1.2.1");
        (await _handler.ResolveAsync("DEST", request, CancellationToken.None)).Should().Be(new DicomNode("DEST", "127.0.0.1", 4242));
        (await _handler.ResolveAsync("DEST ", request, CancellationToken.None)).Should().NotBeNull("AE titles are compared without padding");
        (await _handler.ResolveAsync("OTHER", request, CancellationToken.None)).Should().BeNull();
        (await _handler.ResolveAsync("DEST", Request(StudyRoot, "STUDY", "SCU_B", "StudyInstanceUID=1.2.1"), CancellationToken.None))
            .Should().BeNull("tenant b does not know tenant a's nodes");
    }

    [Fact]
    public async Task The_engine_pages_with_limit_and_offset()
    {
        var all = new List<string?>();
        for (int offset = 0; ; offset += 2)
        {
            var query = new IndexQuery(IndexLevel.Study, ["a"]) { Limit = 2, Offset = offset }.Return(DicomTags.StudyInstanceUID);
            var page = new List<string?>();
            await foreach (var row in _index.Store.QueryAsync(query)) page.Add(row.GetString(DicomTags.StudyInstanceUID));
            page.Count.Should().BeLessThanOrEqualTo(2);
            if (page.Count == 0) break;
            all.AddRange(page);
        }
        all.Should().Equal("1.2.1", "1.2.2", "1.2.3", "1.2.4", "1.2.5");

        var below = new IndexQuery(IndexLevel.Study, ["a"]).Match(DicomTags.SOPInstanceUID, "1.2.1.1.1");
        var act = async () => { await foreach (var _ in _index.Store.QueryAsync(below)) { } };
        await act.Should().ThrowAsync<IndexQueryException>().WithMessage("*Instance attribute*");
        var twoTenants = new IndexQuery(IndexLevel.Study, ["a", "b"]).Match(DicomTags.StudyInstanceUID, "1.2.1").Return(DicomTags.PatientName);
        var names = new List<string?>();
        await foreach (var row in _index.Store.QueryAsync(twoTenants)) names.Add(row.GetString(DicomTags.PatientName));
        names.Should().BeEquivalentTo("Wang^XiaoDong=王^小东=", "Other^Name");
    }

    [Theory]
    [InlineData("10", false, "100000.000000")]
    [InlineData("10", true, "105959.999999")]
    [InlineData("1030", true, "103059.999999")]
    [InlineData("103015.5", false, "103015.500000")]
    [InlineData("103015.5", true, "103015.599999")]
    [InlineData("10:30:15", false, "103015.000000")]
    [InlineData("2400", false, null)]
    [InlineData("1", false, null)]
    [InlineData("1030.5", false, null)]
    public void Time_bounds(string value, bool upper, string? expected) => IndexMatching.TimeBound(value, upper).Should().Be(expected);

    [Fact]
    public void Person_name_groups_are_upper_cased_and_trimmed()
    {
        IndexMatching.NameGroups("Wang^XiaoDong^^=王^小东=").Should().Be(("WANG^XIAODONG", "王^小东", null));
        IndexMatching.NameGroups("müller^jürgen").Should().Be(("MÜLLER^JÜRGEN", null, null));
        IndexMatching.NameGroups("").Should().Be((null, null, null));
    }
}
