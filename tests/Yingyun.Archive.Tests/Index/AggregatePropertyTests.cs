using CsCheck;
using Microsoft.Data.Sqlite;
using Yingyun.Archive.Ingest;

namespace Yingyun.Archive.Tests.Index;

/// <summary>Random histories of receipts, re-sends, replaced versions and deletes, applied in random batches: the
/// index's aggregates must equal a recomputation from scratch over what is current.</summary>
public sealed class AggregatePropertyTests
{
    /// <summary>kind 0–5: receive a version; 6: re-send an earlier event as is; 7: delete an instance; 8: a series;
    /// 9: a study. <paramref name="Extra"/> packs patient (bit 0), modality (bits 1–2) and "end the batch" (bit 3).</summary>
    public sealed record Op(int Kind, int Sop, int Extra, int Version)
    {
        public override string ToString() => $"{Kind}/{Sop}/{Extra}/{Version}";
    }

    private static readonly string?[] Modalities = ["CT", "MR", "PR", null];

    // A SOP Instance UID always lives in the same study and series (a move is a conflict and never reaches the
    // index); its patient and modality may change from version to version.
    private static string Study(int sop) => $"1.{sop % 3}";
    private static string Series(int sop) => $"1.{sop % 3}.{sop % 2}";
    private static string Sop(int sop) => $"1.{sop % 3}.{sop % 2}.{sop}";

    [Fact]
    public async Task Aggregates_equal_a_recomputation_from_scratch()
    {
        var gen = Gen.Select(Gen.Int[0, 9], Gen.Int[0, 7], Gen.Int[0, 15], Gen.Int[1, 40], (k, s, e, v) => new Op(k, s, e, v)).Array[1, 40];
        await gen.SampleAsync(RunAsync, iter: 60, threads: 1, print: ops => string.Join(" ", ops.Select(o => o.ToString())));
    }

    private static async Task RunAsync(Op[] ops)
    {
        await using var index = await TestIndex.CreateAsync();
        var store = index.Store;
        var applied = new List<InstanceEvent>();
        var tombstones = new Dictionary<(string Level, string Uid), long>();
        var pending = new List<InstanceEvent>();

        async Task FlushAsync()
        {
            if (pending.Count == 0) return;
            await store.ApplyInstancesAsync(pending);
            applied.AddRange(pending);
            pending.Clear();
        }

        for (int n = 0; n < ops.Length; n++)
        {
            var op = ops[n];
            // Distinct versions per history (ties between two versions of one instance do not happen: ticks).
            long version = op.Version * 100L + n;
            switch (op.Kind)
            {
                case <= 5:
                    var e = TestEvents.Make("t", (op.Extra & 1) == 0 ? "P1" : "P2", Study(op.Sop), Series(op.Sop), Sop(op.Sop), version,
                        Modalities[(op.Extra >> 1) & 3]);
                    e.Outcome = ReceiptOutcome.Replaced;
                    pending.Add(e);
                    break;
                case 6:
                    if (applied.Count + pending.Count == 0) break;
                    var all = applied.Concat(pending).ToList();
                    pending.Add(all[op.Sop * 7 % all.Count]);
                    break;
                default:
                    await FlushAsync();
                    var (level, uid) = op.Kind switch { 7 => ("IMAGE", Sop(op.Sop)), 8 => ("SERIES", Series(op.Sop)), _ => ("STUDY", Study(op.Sop)) };
                    _ = op.Kind switch
                    {
                        7 => await store.DeleteInstanceAsync("t", uid, version),
                        8 => await store.DeleteSeriesAsync("t", uid, version),
                        _ => await store.DeleteStudyAsync("t", uid, version),
                    };
                    tombstones[(level, uid)] = Math.Max(tombstones.GetValueOrDefault((level, uid)), version);
                    break;
            }
            if ((op.Extra & 8) != 0) await FlushAsync();
        }
        await FlushAsync();

        var expected = Recompute(applied, tombstones);
        var actual = Read(index);
        actual.Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());

        // And a replay of everything applies nothing new.
        var before = index.Dump();
        await store.ApplyInstancesAsync(applied);
        index.Dump().Should().Equal(before);
    }

    private static List<string> Recompute(List<InstanceEvent> applied, Dictionary<(string, string), long> tombstones)
    {
        bool Covered(InstanceEvent e) =>
            tombstones.GetValueOrDefault(("IMAGE", e.SopUid)) >= e.Version
            || tombstones.GetValueOrDefault(("SERIES", e.SeriesUid)) >= e.Version
            || tombstones.GetValueOrDefault(("STUDY", e.StudyUid)) >= e.Version;
        var current = applied.Where(e => !Covered(e)).GroupBy(e => e.SopUid).Select(g => g.MaxBy(e => e.Version)!).ToList();
        static InstanceEvent Newest(IEnumerable<InstanceEvent> events) =>
            events.OrderByDescending(e => e.Version).ThenBy(e => e.SopUid, StringComparer.Ordinal).First();

        var lines = new List<string>();
        var series = current.GroupBy(e => e.SeriesUid).ToDictionary(g => g.Key, g => (Count: g.Count(), Modality: Newest(g).Modality));
        foreach (var (uid, s) in series.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            lines.Add($"series {uid} {s.Count} {s.Modality}");
        var studies = current.GroupBy(e => e.StudyUid).Select(g => (
            Uid: g.Key,
            Patient: Newest(g).PatientId,
            Series: g.Select(e => e.SeriesUid).Distinct().Count(),
            Instances: g.Count(),
            Modalities: string.Join('\\', g.Select(e => series[e.SeriesUid].Modality).Where(m => m is not null).Distinct().Order(StringComparer.Ordinal)))).ToList();
        foreach (var s in studies.OrderBy(s => s.Uid, StringComparer.Ordinal))
            lines.Add($"study {s.Uid} {s.Patient} {s.Series} {s.Instances} {s.Modalities}");
        foreach (var p in studies.GroupBy(s => s.Patient).OrderBy(g => g.Key, StringComparer.Ordinal))
            lines.Add($"patient {p.Key} {p.Count()} {p.Sum(s => s.Series)} {p.Sum(s => s.Instances)}");
        return lines;
    }

    private static List<string> Read(TestIndex index)
    {
        var lines = new List<string>();
        using var connection = new SqliteConnection($"Data Source={index.Store.DatabasePath};Mode=ReadOnly;Pooling=False");
        connection.Open();
        void Query(string sql, Func<SqliteDataReader, string> line)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            using var reader = command.ExecuteReader();
            while (reader.Read()) lines.Add(line(reader));
        }
        Query("SELECT series_uid, number_of_instances, modality FROM series ORDER BY series_uid",
            r => $"series {r.GetString(0)} {r.GetInt64(1)} {(r.IsDBNull(2) ? "" : r.GetString(2))}");
        Query("""
            SELECT st.study_uid, p.patient_id, st.number_of_series, st.number_of_instances, coalesce(st.modalities_in_study, '')
            FROM study st JOIN patient p ON p.patient_key = st.patient_key ORDER BY st.study_uid
            """, r => $"study {r.GetString(0)} {r.GetString(1)} {r.GetInt64(2)} {r.GetInt64(3)} {r.GetString(4)}");
        Query("SELECT patient_id, number_of_studies, number_of_series, number_of_instances FROM patient WHERE number_of_studies > 0 ORDER BY patient_id",
            r => $"patient {r.GetString(0)} {r.GetInt64(1)} {r.GetInt64(2)} {r.GetInt64(3)}");
        return lines;
    }
}
