using System.Globalization;
using System.Text;

namespace Yingyun.Archive.Index;

/// <summary>Translates an <see cref="IndexQuery"/> into one parameterised SQLite SELECT (values never enter the SQL
/// text; the same query shape gives the same text, so its prepared statement is reused). Joins only the levels a
/// query touches; tenant first in every WHERE, as in every index.</summary>
internal sealed class SqliteQueryBuilder
{
    private static readonly string[] Tables = ["patient", "study", "series", "instance"];
    private static readonly string[] Aliases = ["p", "st", "se", "i"];
    private static readonly string[] Keys = ["patient_key", "study_key", "series_key", "instance_key"];

    private readonly List<object> _parameters = [];
    private readonly StringBuilder _where = new();
    private readonly bool[] _joined = new bool[4];
    private readonly IndexLevel _base;

    private SqliteQueryBuilder(IndexLevel level) => _base = level;

    public sealed record Plan(string Sql, IReadOnlyList<object> Parameters, IReadOnlyList<IndexAttribute> Columns);

    /// <summary>The entities of <see cref="IndexQuery.Level"/> that match, with the catalog's return keys.</summary>
    public static Plan Entities(IndexQuery query)
    {
        var builder = new SqliteQueryBuilder(query.Level);
        var conditions = builder.Conditions(query);
        var columns = new List<IndexAttribute>();
        foreach (var tag in query.ReturnKeys.Distinct())
        {
            if (!IndexAttributes.TryGet(tag, out var attribute) || attribute.Level > query.Level) continue;
            columns.Add(attribute);
            builder.Need(attribute.Level);
        }
        var select = new StringBuilder("SELECT ");
        if (columns.Count == 0) select.Append(Aliases[(int)query.Level]).Append('.').Append(Keys[(int)query.Level]);
        for (int c = 0; c < columns.Count; c++)
            select.Append(c == 0 ? "" : ", ").Append(Aliases[(int)columns[c].Level]).Append('.').Append(columns[c].Column);
        return new Plan(builder.Finish(select.ToString(), query, conditions), builder._parameters, columns);
    }

    /// <summary>The files of the current instances below the matching entities (C-MOVE, C-GET): conditions of every
    /// level up to the query's, instances in study, series and instance-number order.</summary>
    public static Plan Files(IndexQuery query)
    {
        var builder = new SqliteQueryBuilder(IndexLevel.Instance);
        var conditions = builder.Conditions(query);
        builder.Need(IndexLevel.Study);
        builder.Need(IndexLevel.Series);
        const string select = "SELECT i.tenant_id, st.study_uid, se.series_uid, i.sop_uid, i.sop_class_uid, i.transfer_syntax_uid, i.file_path, i.file_size";
        string sql = builder.Finish(select, query, conditions, orderBy: "st.study_key, se.series_number, se.series_key, i.instance_number, i.instance_key");
        return new Plan(sql, builder._parameters, []);
    }

    private List<(IndexCondition Condition, IndexLevel Level)> Conditions(IndexQuery query)
    {
        var conditions = new List<(IndexCondition, IndexLevel)>();
        foreach (var match in query.Matches)
        {
            if (!IndexAttributes.TryGet(match.Tag, out var attribute))
                throw new IndexQueryException($"{match.Tag} {Dicom.DicomDictionary.GetKeyword(match.Tag)} is not a matching key this archive supports");
            if (attribute.Level > query.Level)
                throw new IndexQueryException($"{IndexMatching.Describe(attribute)} is a {attribute.Level} attribute: it cannot be matched in a {query.Level} level query (PS3.4 §C.4.1.2)");
            if (IndexMatching.Parse(attribute, match.Value) is not { } condition) continue;
            conditions.Add((condition, attribute.Level));
            Need(attribute.Level);
        }
        return conditions;
    }

    private void Need(IndexLevel level)
    {
        _joined[(int)level] = true;
        // The patient is reached through the study.
        if (level == IndexLevel.Patient && _base > IndexLevel.Study) _joined[(int)IndexLevel.Study] = true;
    }

    private string Finish(string select, IndexQuery query, List<(IndexCondition Condition, IndexLevel Level)> conditions, string? orderBy = null)
    {
        var sql = new StringBuilder(select);
        string b = Aliases[(int)_base];
        sql.Append(" FROM ").Append(Tables[(int)_base]).Append(' ').Append(b);
        if (_base > IndexLevel.Series && _joined[(int)IndexLevel.Series]) sql.Append(" JOIN series se ON se.series_key = i.series_key");
        if (_base > IndexLevel.Study && _joined[(int)IndexLevel.Study]) sql.Append(" JOIN study st ON st.study_key = ").Append(b).Append(".study_key");
        if (_base > IndexLevel.Patient && _joined[(int)IndexLevel.Patient]) sql.Append(" JOIN patient p ON p.patient_key = st.patient_key");

        // The tenant on every table joined, so that each table's indexes (tenant first) serve its conditions.
        sql.Append(" WHERE ");
        string tenants = query.TenantIds.Count == 1
            ? " = " + Parameter(query.TenantIds[0])
            : " IN (" + string.Join(", ", query.TenantIds.Select(Parameter)) + ")";
        sql.Append(b).Append(".tenant_id").Append(tenants);
        for (int level = 0; level < (int)_base; level++)
            if (_joined[level]) sql.Append(" AND ").Append(Aliases[level]).Append(".tenant_id").Append(tenants);
        // A patient whose only instances sit in a study that now belongs to another patient has no study of its own.
        if (_base == IndexLevel.Patient) sql.Append(" AND p.number_of_studies > 0");
        foreach (var (condition, level) in conditions)
        {
            sql.Append(" AND ");
            Translate(sql, condition, Aliases[(int)level]);
        }

        if (orderBy is not null) sql.Append(" ORDER BY ").Append(orderBy);
        else if (query.Limit is not null || query.Offset > 0) sql.Append(" ORDER BY ").Append(b).Append('.').Append(Keys[(int)_base]);
        if (query.Limit is not null || query.Offset > 0)
            sql.Append(" LIMIT ").Append(Parameter((long)(query.Limit ?? -1))).Append(" OFFSET ").Append(Parameter((long)Math.Max(0, query.Offset)));
        return sql.ToString();
    }

    private void Translate(StringBuilder sql, IndexCondition condition, string alias)
    {
        switch (condition)
        {
            case EqualCondition equal:
                sql.Append(alias).Append('.').Append(equal.Column).Append(" = ").Append(Parameter(equal.Value));
                break;
            case InCondition list when list.Values.Count > 64:
                // A long UID list is one JSON parameter (SQLite caps bound parameters at 32766).
                sql.Append(alias).Append('.').Append(list.Column).Append(" IN (SELECT value FROM json_each(")
                    .Append(Parameter(System.Text.Json.JsonSerializer.Serialize(list.Values.ToList(), IndexJson.Default.ListString))).Append("))");
                break;
            case InCondition list:
                sql.Append(alias).Append('.').Append(list.Column).Append(" IN (").AppendJoin(", ", list.Values.Select(v => Parameter(v))).Append(')');
                break;
            case WildcardCondition wildcard:
                // GLOB: case-sensitive like DICOM's wildcard matching; '*' and '?' mean what they mean in PS3.4
                // §C.2.2.2.4, and '[' (GLOB's only other special character) is escaped as a one-character class.
                // Integer columns compare as text.
                bool numeric = wildcard.Column is "series_number" or "instance_number" or "rows" or "columns" or "bits_allocated" or "number_of_frames";
                if (numeric) sql.Append("CAST(").Append(alias).Append('.').Append(wildcard.Column).Append(" AS TEXT)");
                else sql.Append(alias).Append('.').Append(wildcard.Column);
                sql.Append(" GLOB ").Append(Parameter(wildcard.Pattern.Replace("[", "[[]", StringComparison.Ordinal)));
                break;
            case RangeCondition range:
                sql.Append('(').Append(alias).Append('.').Append(range.Column).Append(" IS NOT NULL");
                if (range.Lower is not null) sql.Append(" AND ").Append(alias).Append('.').Append(range.Column).Append(" >= ").Append(Parameter(range.Lower));
                if (range.Upper is not null) sql.Append(" AND ").Append(alias).Append('.').Append(range.Column).Append(" <= ").Append(Parameter(range.Upper));
                sql.Append(')');
                break;
            case AnyCondition any:
                sql.Append('(');
                for (int n = 0; n < any.Conditions.Count; n++)
                {
                    if (n > 0) sql.Append(" OR ");
                    Translate(sql, any.Conditions[n], alias);
                }
                sql.Append(')');
                break;
            case AllCondition all:
                sql.Append('(');
                for (int n = 0; n < all.Conditions.Count; n++)
                {
                    if (n > 0) sql.Append(" AND ");
                    Translate(sql, all.Conditions[n], alias);
                }
                sql.Append(')');
                break;
            case StudyHasSeriesCondition has:
                sql.Append("EXISTS (SELECT 1 FROM series sx WHERE sx.study_key = ").Append(alias).Append(".study_key AND ");
                Translate(sql, has.Condition, "sx");
                sql.Append(')');
                break;
            default:
                throw new InvalidOperationException($"no SQL for {condition.GetType().Name}");
        }
    }

    private string Parameter(object value)
    {
        _parameters.Add(value);
        return "@p" + (_parameters.Count - 1).ToString(CultureInfo.InvariantCulture);
    }
}
