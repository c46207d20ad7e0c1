using System.Globalization;
using Microsoft.Data.Sqlite;
using Yingyun.Archive.Ingest;

namespace Yingyun.Archive.Index;

public sealed partial class SqliteIndexStore
{
    private const string TombstoneSql = """
        SELECT max(version) FROM tombstone
        WHERE tenant_id = @t AND ((level = 'IMAGE' AND uid = @sop) OR (level = 'SERIES' AND uid = @series) OR (level = 'STUDY' AND uid = @study))
        """;

    private const string InstanceFindSql = "SELECT version, series_key, study_key, patient_key FROM instance WHERE tenant_id = @t AND sop_uid = @s";

    // Descriptive attributes follow the newest version applied (attributes_version); an older one changes nothing.
    private const string PatientUpsertSql = """
        INSERT INTO patient (tenant_id, patient_id, issuer_of_patient_id, patient_name, patient_name_a, patient_name_i, patient_name_p,
            patient_birth_date, patient_sex, attributes_version)
        VALUES (@t, @id, @issuer, @name, @a, @i, @p, @birth, @sex, @version)
        ON CONFLICT (tenant_id, patient_id) DO UPDATE SET
            issuer_of_patient_id = excluded.issuer_of_patient_id, patient_name = excluded.patient_name, patient_name_a = excluded.patient_name_a,
            patient_name_i = excluded.patient_name_i, patient_name_p = excluded.patient_name_p, patient_birth_date = excluded.patient_birth_date,
            patient_sex = excluded.patient_sex, attributes_version = excluded.attributes_version
        WHERE excluded.attributes_version >= patient.attributes_version
        """;

    private const string PatientKeySql = "SELECT patient_key FROM patient WHERE tenant_id = @t AND patient_id = @id";

    private const string StudyFindSql = "SELECT study_key, patient_key FROM study WHERE tenant_id = @t AND study_uid = @uid";

    private const string StudyUpsertSql = """
        INSERT INTO study (tenant_id, study_uid, patient_key, study_date, study_time, study_time_n, accession_number, study_id, study_description,
            referring_physician_name, referring_physician_name_a, referring_physician_name_i, referring_physician_name_p, institution_name,
            attributes_version)
        VALUES (@t, @uid, @patient, @date, @time, @time_n, @accession, @id, @description, @referring, @ra, @ri, @rp, @institution, @version)
        ON CONFLICT (tenant_id, study_uid) DO UPDATE SET
            study_date = excluded.study_date, study_time = excluded.study_time,
            study_time_n = excluded.study_time_n, accession_number = excluded.accession_number, study_id = excluded.study_id,
            study_description = excluded.study_description, referring_physician_name = excluded.referring_physician_name,
            referring_physician_name_a = excluded.referring_physician_name_a, referring_physician_name_i = excluded.referring_physician_name_i,
            referring_physician_name_p = excluded.referring_physician_name_p, institution_name = excluded.institution_name,
            attributes_version = excluded.attributes_version
        WHERE excluded.attributes_version >= study.attributes_version
        """;

    private const string SeriesUpsertSql = """
        INSERT INTO series (tenant_id, series_uid, study_key, modality, series_number, series_description, body_part_examined, series_date,
            series_time, series_time_n, station_name, attributes_version)
        VALUES (@t, @uid, @study, @modality, @number, @description, @body, @date, @time, @time_n, @station, @version)
        ON CONFLICT (study_key, series_uid) DO UPDATE SET
            series_number = excluded.series_number, series_description = excluded.series_description,
            body_part_examined = excluded.body_part_examined, series_date = excluded.series_date, series_time = excluded.series_time,
            series_time_n = excluded.series_time_n, station_name = excluded.station_name, attributes_version = excluded.attributes_version
        WHERE excluded.attributes_version >= series.attributes_version
        """;

    private const string SeriesKeySql = "SELECT series_key FROM series WHERE study_key = @study AND series_uid = @uid";

    private const string InstanceUpsertSql = """
        INSERT INTO instance (tenant_id, sop_uid, series_key, study_key, patient_key, sop_class_uid, instance_number, content_date, content_time,
            content_time_n, rows, columns, bits_allocated, number_of_frames, modality, specific_character_set, transfer_syntax_uid, file_path,
            file_size, content_hash, version, trace_id, received_time)
        VALUES (@t, @uid, @series, @study, @patient, @class, @number, @date, @time, @time_n, @rows, @columns, @bits, @frames, @modality, @charset, @ts,
            @path, @size, @hash, @version, @trace, @received)
        ON CONFLICT (tenant_id, sop_uid) DO UPDATE SET
            series_key = excluded.series_key, study_key = excluded.study_key, patient_key = excluded.patient_key,
            sop_class_uid = excluded.sop_class_uid,
            instance_number = excluded.instance_number, content_date = excluded.content_date, content_time = excluded.content_time,
            content_time_n = excluded.content_time_n, rows = excluded.rows, columns = excluded.columns, bits_allocated = excluded.bits_allocated,
            number_of_frames = excluded.number_of_frames, modality = excluded.modality, specific_character_set = excluded.specific_character_set,
            transfer_syntax_uid = excluded.transfer_syntax_uid, file_path = excluded.file_path, file_size = excluded.file_size,
            content_hash = excluded.content_hash, version = excluded.version, trace_id = excluded.trace_id, received_time = excluded.received_time
        WHERE excluded.version >= instance.version
        """;

    // Aggregates are recomputed from the rows below them for every entity a batch touched: exact whatever the
    // history of re-sends, replacements, moves and deletes (PS3.4 §C.3.4 Table C.3-1 ff. define them as counts).
    private const string SeriesAggregateSql = """
        UPDATE series SET
            number_of_instances = (SELECT count(*) FROM instance WHERE series_key = @k),
            modality = (SELECT modality FROM instance WHERE series_key = @k ORDER BY version DESC, sop_uid LIMIT 1)
        WHERE series_key = @k
        """;

    private const string StudyAggregateSql = """
        UPDATE study SET
            patient_key = coalesce((SELECT patient_key FROM instance WHERE study_key = @k ORDER BY version DESC, sop_uid LIMIT 1), patient_key),
            number_of_series = (SELECT count(*) FROM series WHERE study_key = @k AND number_of_instances > 0),
            number_of_instances = (SELECT count(*) FROM instance WHERE study_key = @k),
            modalities_in_study = (SELECT group_concat(modality, '\' ORDER BY modality)
                                   FROM (SELECT DISTINCT modality FROM series WHERE study_key = @k AND number_of_instances > 0 AND modality <> ''))
        WHERE study_key = @k
        RETURNING patient_key
        """;

    private const string StudyPatientSql = "SELECT patient_key FROM study WHERE study_key = @k";

    private const string PatientAggregateSql = """
        UPDATE patient SET
            number_of_studies = (SELECT count(*) FROM study WHERE patient_key = @k AND number_of_instances > 0),
            number_of_series = (SELECT coalesce(sum(number_of_series), 0) FROM study WHERE patient_key = @k),
            number_of_instances = (SELECT coalesce(sum(number_of_instances), 0) FROM study WHERE patient_key = @k)
        WHERE patient_key = @k
        """;

    public Task ApplyInstancesAsync(IReadOnlyList<InstanceEvent> batch, CancellationToken cancellationToken = default)
    {
        if (batch.Count == 0) return Task.CompletedTask;
        return WriteDurablyAsync((writer, transaction) =>
        {
            var touched = new Touched();
            foreach (var e in batch) ApplyInstance(writer, transaction, e, touched);
            UpdateAggregates(writer, transaction, touched);
            return 0;
        }, cancellationToken);
    }

    private void ApplyInstance(SqliteSession w, SqliteTransaction tx, InstanceEvent e, Touched touched)
    {
        // Only stored/replaced receipts produce dicom_image_queue events; anything else would not be current.
        if (e.Outcome is not (ReceiptOutcome.Stored or ReceiptOutcome.Replaced)) return;
        if (e.SopUid.Length == 0 || e.StudyUid.Length == 0 || e.SeriesUid.Length == 0)
            throw new InvalidDataException($"dicom_image_queue trace {e.TraceId}: an instance event without study, series or SOP Instance UID");
        if (_hasTombstones && w.Command(TombstoneSql, "@t", "@sop", "@series", "@study").With(tx, e.TenantId, e.SopUid, e.SeriesUid, e.StudyUid)
                .ExecuteScalar() is long deletedAt && deletedAt >= e.Version)
            return;

        long? previousSeries = null, previousStudy = null, previousPatient = null;
        using (var reader = w.Command(InstanceFindSql, "@t", "@s").With(tx, e.TenantId, e.SopUid).ExecuteReader())
        {
            if (reader.Read())
            {
                if (reader.GetInt64(0) > e.Version) return;
                previousSeries = reader.GetInt64(1);
                previousStudy = reader.GetInt64(2);
                previousPatient = reader.GetInt64(3);
            }
        }

        var (pa, pi, pp) = IndexMatching.NameGroups(e.PatientName);
        w.Command(PatientUpsertSql, "@t", "@id", "@issuer", "@name", "@a", "@i", "@p", "@birth", "@sex", "@version").With(tx,
            e.TenantId, e.PatientId, Empty(e.IssuerOfPatientId), Empty(e.PatientName), pa, pi, pp, DateOrText(e.PatientBirthDate), Empty(e.PatientSex),
            e.Version).ExecuteNonQuery();
        long patientKey = (long)w.Command(PatientKeySql, "@t", "@id").With(tx, e.TenantId, e.PatientId).ExecuteScalar()!;
        touched.Patients.Add(patientKey);

        var (ra, ri, rp) = IndexMatching.NameGroups(e.ReferringPhysicianName);
        w.Command(StudyUpsertSql, "@t", "@uid", "@patient", "@date", "@time", "@time_n", "@accession", "@id", "@description", "@referring", "@ra",
            "@ri", "@rp", "@institution", "@version").With(tx,
            e.TenantId, e.StudyUid, patientKey, DateOrText(e.StudyDate), Empty(e.StudyTime), IndexMatching.NormalizeTime(e.StudyTime),
            Empty(e.AccessionNumber), Empty(e.StudyId), Empty(e.StudyDescription), Empty(e.ReferringPhysicianName), ra, ri, rp,
            Empty(e.InstitutionName), e.Version).ExecuteNonQuery();
        long studyKey;
        using (var reader = w.Command(StudyFindSql, "@t", "@uid").With(tx, e.TenantId, e.StudyUid).ExecuteReader())
        {
            reader.Read();
            studyKey = reader.GetInt64(0);
        }
        touched.Studies.Add(studyKey);

        w.Command(SeriesUpsertSql, "@t", "@uid", "@study", "@modality", "@number", "@description", "@body", "@date", "@time", "@time_n", "@station",
            "@version").With(tx,
            e.TenantId, e.SeriesUid, studyKey, Empty(e.Modality), e.SeriesNumber, Empty(e.SeriesDescription), Empty(e.BodyPartExamined),
            DateOrText(e.SeriesDate), Empty(e.SeriesTime), IndexMatching.NormalizeTime(e.SeriesTime), Empty(e.StationName), e.Version).ExecuteNonQuery();
        long seriesKey = (long)w.Command(SeriesKeySql, "@study", "@uid").With(tx, studyKey, e.SeriesUid).ExecuteScalar()!;
        touched.Series.Add(seriesKey);

        w.Command(InstanceUpsertSql, "@t", "@uid", "@series", "@study", "@patient", "@class", "@number", "@date", "@time", "@time_n", "@rows", "@columns", "@bits",
            "@frames", "@modality", "@charset", "@ts", "@path", "@size", "@hash", "@version", "@trace", "@received").With(tx,
            e.TenantId, e.SopUid, seriesKey, studyKey, patientKey, e.SopClassUid, e.InstanceNumber, DateOrText(e.ContentDate), Empty(e.ContentTime),
            IndexMatching.NormalizeTime(e.ContentTime), e.Rows, e.Columns, e.BitsAllocated, e.NumberOfFrames, Empty(e.Modality),
            Empty(e.SpecificCharacterSet), e.TransferSyntaxUid, e.FilePath, e.FileSize, e.ContentHash, e.Version, e.TraceId,
            FormatTime(e.ReceivedTime)).ExecuteNonQuery();

        // An instance that changed series or study (ingest calls that a conflict, but the index stays exact anyway).
        if (previousSeries is { } s && s != seriesKey) touched.Series.Add(s);
        if (previousStudy is { } st && st != studyKey) touched.Studies.Add(st);
        if (previousPatient is { } p && p != patientKey) touched.Patients.Add(p);
    }

    /// <summary>Recomputes the counts and modalities of every touched series, then study, then patient, and removes
    /// those left without instances.</summary>
    private static void UpdateAggregates(SqliteSession w, SqliteTransaction tx, Touched touched)
    {
        foreach (long series in touched.Series)
        {
            w.Command(SeriesAggregateSql, "@k").With(tx, series).ExecuteNonQuery();
            w.Command("DELETE FROM series WHERE series_key = @k AND number_of_instances = 0", "@k").With(tx, series).ExecuteNonQuery();
        }
        foreach (long study in touched.Studies)
        {
            if (w.Command(StudyPatientSql, "@k").With(tx, study).ExecuteScalar() is long before) touched.Patients.Add(before);
            if (w.Command(StudyAggregateSql, "@k").With(tx, study).ExecuteScalar() is long patient) touched.Patients.Add(patient);
            w.Command("DELETE FROM study WHERE study_key = @k AND number_of_instances = 0", "@k").With(tx, study).ExecuteNonQuery();
        }
        foreach (long patient in touched.Patients)
        {
            w.Command(PatientAggregateSql, "@k").With(tx, patient).ExecuteNonQuery();
            // A patient stays while an instance version names it, even if the study it is in now belongs to another
            // patient (a study's patient is that of its newest instance): a delete may hand the study back.
            w.Command("DELETE FROM patient WHERE patient_key = @k AND number_of_studies = 0 AND NOT EXISTS (SELECT 1 FROM instance WHERE patient_key = @k)", "@k")
                .With(tx, patient).ExecuteNonQuery();
        }
    }

    // ---------------------------------------------------------------- deletes

    /// <summary>Removes an instance whose current version is at or below <paramref name="version"/> (the deletion's
    /// sequence, like a receipt's: UTC ticks) and remembers the deletion, so that replaying older events does not
    /// bring it back while a newer re-send does. Aggregates stay exact. True if a row was removed.</summary>
    public Task<bool> DeleteInstanceAsync(string tenantId, string sopInstanceUid, long version, CancellationToken cancellationToken = default) =>
        DeleteAsync(tenantId, "IMAGE", sopInstanceUid, version,
            "SELECT instance_key, series_key, study_key, patient_key FROM instance WHERE tenant_id = @t AND sop_uid = @uid AND version <= @v", cancellationToken);

    /// <summary>Removes the instances of a series (as <see cref="DeleteInstanceAsync"/>). The series is named by its
    /// UID within the tenant.</summary>
    public Task<bool> DeleteSeriesAsync(string tenantId, string seriesInstanceUid, long version, CancellationToken cancellationToken = default) =>
        DeleteAsync(tenantId, "SERIES", seriesInstanceUid, version, """
            SELECT i.instance_key, i.series_key, i.study_key, i.patient_key FROM series se JOIN instance i ON i.series_key = se.series_key
            WHERE se.tenant_id = @t AND se.series_uid = @uid AND i.version <= @v
            """, cancellationToken);

    /// <summary>Removes the instances of a study (as <see cref="DeleteInstanceAsync"/>).</summary>
    public Task<bool> DeleteStudyAsync(string tenantId, string studyInstanceUid, long version, CancellationToken cancellationToken = default) =>
        DeleteAsync(tenantId, "STUDY", studyInstanceUid, version, """
            SELECT i.instance_key, i.series_key, i.study_key, i.patient_key FROM study st JOIN instance i ON i.study_key = st.study_key
            WHERE st.tenant_id = @t AND st.study_uid = @uid AND i.version <= @v
            """, cancellationToken);

    private Task<bool> DeleteAsync(string tenantId, string level, string uid, long version, string selectSql, CancellationToken cancellationToken) =>
        WriteDurablyAsync((w, tx) =>
        {
            w.Command("""
                INSERT INTO tombstone (tenant_id, level, uid, version) VALUES (@t, @level, @uid, @v)
                ON CONFLICT (tenant_id, level, uid) DO UPDATE SET version = max(version, excluded.version)
                """, "@t", "@level", "@uid", "@v").With(tx, tenantId, level, uid, version).ExecuteNonQuery();
            _hasTombstones = true;
            var touched = new Touched();
            var doomed = new List<long>();
            using (var reader = w.Command(selectSql, "@t", "@uid", "@v").With(tx, tenantId, uid, version).ExecuteReader())
            {
                while (reader.Read())
                {
                    doomed.Add(reader.GetInt64(0));
                    touched.Series.Add(reader.GetInt64(1));
                    touched.Studies.Add(reader.GetInt64(2));
                    touched.Patients.Add(reader.GetInt64(3));
                }
            }
            foreach (long key in doomed) w.Command("DELETE FROM instance WHERE instance_key = @k", "@k").With(tx, key).ExecuteNonQuery();
            UpdateAggregates(w, tx, touched);
            return doomed.Count > 0;
        }, cancellationToken);

    private static string? Empty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>DA kept as YYYYMMDD when it is a date (so ranges compare as text), as received otherwise.</summary>
    private static string? DateOrText(string? value) => IndexMatching.NormalizeDate(value) ?? Empty(value?.Trim());

    private sealed class Touched
    {
        public HashSet<long> Series { get; } = [];
        public HashSet<long> Studies { get; } = [];
        public HashSet<long> Patients { get; } = [];
    }
}
