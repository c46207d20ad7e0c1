using System.CommandLine;
using Yingyun.Dicom;
using Yingyun.Dimse;

namespace Yingyun.Server.Cli;

/// <summary>The query keys of `find` and `move`, given as DCMTK's findscu takes them: `-k KEY=VALUE` or `-k KEY`
/// (a return key), KEY a dictionary keyword or gggg,eeee; `--level` sets Query/Retrieve Level (0008,0052).</summary>
internal sealed class QueryKeys
{
    public Option<string[]> Keys { get; } = new("--key", "-k") { Description = "a matching key KEY=VALUE, or a return key KEY (KEY: keyword or gggg,eeee)", AllowMultipleArgumentsPerToken = false };
    public Option<string> Level { get; } = new("--level") { Description = "PATIENT, STUDY, SERIES or IMAGE", DefaultValueFactory = _ => "STUDY" };
    public Option<bool> PatientRoot { get; } = new("--patient-root", "-P") { Description = "use the Patient Root information model (default: Study Root)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Keys);
        command.Options.Add(Level);
        command.Options.Add(PatientRoot);
    }

    /// <summary>The identifier, or an error naming the key at fault.</summary>
    public DicomDataset Build(ParseResult parse)
    {
        var identifier = new DicomDataset();
        identifier.AddOrUpdate(QueryRetrieve.QueryRetrieveLevel, DicomVR.CS, parse.GetValue(Level)!.ToUpperInvariant());
        foreach (var key in parse.GetValue(Keys) ?? [])
        {
            int eq = key.IndexOf('=', StringComparison.Ordinal);
            string name = eq < 0 ? key : key[..eq];
            string value = eq < 0 ? "" : key[(eq + 1)..];
            if (!DicomTag.TryParse(name, out var tag))
                throw new ArgumentException($"-k {key}: '{name}' is neither a keyword of the data dictionary nor gggg,eeee");
            var vr = DicomDictionary.TryGet(tag, out var entry) && entry.VR != DicomVR.None ? entry.VR : DicomVR.UN;
            if (vr == DicomVR.SQ)
                identifier.AddOrUpdate(new DicomSequence(tag));
            else
                identifier.AddOrUpdate(tag, vr, value.Length == 0 ? [] : value.Split('\\'));
        }
        return identifier;
    }

    public string Model(ParseResult parse, string find, string patientRootFind) => parse.GetValue(PatientRoot) ? patientRootFind : find;
}
