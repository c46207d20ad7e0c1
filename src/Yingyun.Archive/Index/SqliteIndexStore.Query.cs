using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Yingyun.Dicom;

namespace Yingyun.Archive.Index;

public sealed partial class SqliteIndexStore
{
    /// <summary>The matching entities, each as a data set of the return keys the index holds, strings in UTF-8
    /// (Specific Character Set ISO_IR 192 is its first element). Rows stream from SQLite as the caller consumes them.</summary>
    public async IAsyncEnumerable<DicomDataset> QueryAsync(IndexQuery query, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var plan = SqliteQueryBuilder.Entities(query);
        var session = RentReader();
        try
        {
            using var reader = session.Command(plan.Sql, plan.Parameters.Count).With(null, [.. plan.Parameters]).ExecuteReader();
            bool keysOnly = plan.Columns.Count == 0;
            long rows = 0;
            while (reader.Read())
            {
                cancellationToken.ThrowIfCancellationRequested();
                var answer = new DicomDataset(plan.Columns.Count + 1);
                answer.AddOrUpdate(DicomTag.SpecificCharacterSetTag, DicomVR.CS, "ISO_IR 192");
                if (!keysOnly)
                    for (int c = 0; c < plan.Columns.Count; c++) AddValue(answer, plan.Columns[c], reader, c);
                yield return answer;
                // SQLite reads are synchronous: a long answer gives the thread back now and then.
                if (++rows % 256 == 0) await Task.Yield();
            }
        }
        finally
        {
            ReturnReader(session);
        }
    }

    /// <summary>The files of the current instances under the matching entities (C-MOVE, C-GET, WADO-RS).</summary>
    public Task<IReadOnlyList<IndexedFile>> GetFilesAsync(IndexQuery query, CancellationToken cancellationToken = default)
    {
        var plan = SqliteQueryBuilder.Files(query);
        var session = RentReader();
        try
        {
            using var reader = session.Command(plan.Sql, plan.Parameters.Count).With(null, [.. plan.Parameters]).ExecuteReader();
            var files = new List<IndexedFile>();
            while (reader.Read())
            {
                cancellationToken.ThrowIfCancellationRequested();
                files.Add(new IndexedFile(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.GetString(5), reader.GetString(6), reader.GetInt64(7)));
            }
            return Task.FromResult<IReadOnlyList<IndexedFile>>(files);
        }
        finally
        {
            ReturnReader(session);
        }
    }

    private static void AddValue(DicomDataset answer, IndexAttribute attribute, SqliteDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
        {
            answer.AddOrUpdate(new DicomElement(attribute.Tag, attribute.VR, ReadOnlyMemory<byte>.Empty));
            return;
        }
        switch (attribute.VR)
        {
            case DicomVR.US:
                long number = reader.GetInt64(ordinal);
                if (number is < 0 or > ushort.MaxValue)
                {
                    answer.AddOrUpdate(new DicomElement(attribute.Tag, attribute.VR, ReadOnlyMemory<byte>.Empty));
                    return;
                }
                var bytes = new byte[2];
                BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)number);
                answer.AddOrUpdate(new DicomElement(attribute.Tag, DicomVR.US, bytes));
                return;
            case DicomVR.IS:
                answer.AddOrUpdate(attribute.Tag, DicomVR.IS, reader.GetInt64(ordinal).ToString(CultureInfo.InvariantCulture));
                return;
            default:
                string text = reader.GetString(ordinal);
                answer.AddOrUpdate(attribute.Tag, attribute.VR, attribute.VR.IsSingleValuedText() ? [text] : text.Split('\\'));
                return;
        }
    }
}
