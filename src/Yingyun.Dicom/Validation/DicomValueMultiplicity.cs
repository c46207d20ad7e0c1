namespace Yingyun.Dicom;

/// <summary>A value multiplicity of PS3.6 ("1", "1-3", "1-n", "2-2n", "3-3n" …, PS3.5 §6.4): at least
/// <see cref="Minimum"/>, at most <see cref="Maximum"/> (int.MaxValue for n), and a multiple of <see cref="Step"/>.</summary>
public readonly record struct DicomValueMultiplicity(int Minimum, int Maximum, int Step)
{
    public bool Allows(int count) => count >= Minimum && count <= Maximum && count % Step == 0;

    /// <summary>Parses without allocating: the validator does this for every element.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out DicomValueMultiplicity vm)
    {
        vm = default;
        int dash = text.IndexOf('-');
        if (dash < 0)
        {
            if (!DicomDate.TryDigits(text, out int n) || n == 0) return false;
            vm = new DicomValueMultiplicity(n, n, 1);
            return true;
        }
        if (!DicomDate.TryDigits(text[..dash], out int min) || min == 0) return false;
        var upper = text[(dash + 1)..];
        if (upper.Length > 0 && upper[^1] == 'n')
        {
            // "1-n": no upper bound; "2-2n", "3-3n": a multiple of the factor.
            var factor = upper[..^1];
            int step = 1;
            if (!factor.IsEmpty && (!DicomDate.TryDigits(factor, out step) || step == 0)) return false;
            vm = new DicomValueMultiplicity(min, int.MaxValue, step);
            return true;
        }
        if (!DicomDate.TryDigits(upper, out int max) || max < min) return false;
        vm = new DicomValueMultiplicity(min, max, 1);
        return true;
    }

    public override string ToString() => Maximum == int.MaxValue
        ? (Step == 1 ? $"{Minimum}-n" : $"{Minimum}-{Step}n")
        : Minimum == Maximum ? $"{Minimum}" : $"{Minimum}-{Maximum}";
}
