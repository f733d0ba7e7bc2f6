using Microsoft.ML.Lorenza.Fuzz;

// Usage: Microsoft.ML.Lorenza.Fuzz list | seeds <folder> | <target>
//   list            the targets, one per line
//   seeds <folder>  writes each target's valid file to <folder>/<target>/seed (the seed corpora)
//   <target>        reads one input from stdin as that target's file (under afl-fuzz: many inputs, see build.sh fuzz);
//                   an input breaking the contract throws, which AFL records as a crash
return args switch
{
    ["list"] => FuzzTargets.List(),
    ["seeds", var folder] => FuzzTargets.WriteSeeds(folder),
    [var target] => FuzzTargets.Run(target),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Microsoft.ML.Lorenza.Fuzz list | seeds <folder> | <target>");
    return 2;
}
