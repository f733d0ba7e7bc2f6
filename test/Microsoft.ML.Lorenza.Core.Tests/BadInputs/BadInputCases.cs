using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.ML.Lorenza.Inference;
using Microsoft.ML.Lorenza.Tests.Support;

namespace Microsoft.ML.Lorenza.Tests.BadInputs;

/// <summary>
/// One bad input given to the `lorenza` tool: the files in the working folder, the arguments, the one line it
/// must print (after "error: ") and the exit code. docs/bad-inputs.md is generated from this list
/// (<see cref="BadInputTableTests"/>), so the table and the behaviour cannot drift apart.
/// </summary>
public sealed record BadInputCase(string Kind, string Arguments, string Message, int ExitCode, params (string Name, byte[] Content)[] Files);

/// <summary>A bad input handled where no CLI run can show it (the ML.NET layer, a full disk, a race), with the test that shows it.</summary>
public sealed record BadInputElsewhere(string Kind, string Message, string Test);

public static class BadInputCases
{
    private static (string, byte[]) File(string name, string text) => (name, Encoding.UTF8.GetBytes(text));
    private static (string, byte[]) File(string name, byte[] bytes) => (name, bytes);

    private static readonly string GoodRows = string.Concat(Enumerable.Range(0, 40).Select(i => i % 2 == 0 ? $"good fine film {i}\tpos\n" : $"bad awful film {i}\tneg\n"));
    private static (string, byte[]) Good => File("data.tsv", "text\tlabel\n" + GoodRows);
    private static (string, byte[]) Weighted(string badWeight) => File("data.tsv", "text\tlabel\tw\n" + string.Concat(Enumerable.Range(0, 40).Select(i =>
        i % 2 == 0 ? $"good fine film {i}\tpos\t1\n" : $"bad awful film {i}\tneg\t{(i == 5 ? badWeight : "2")}\n")));
    private static string Continuous(Func<int, string> label) => "text\tlabel\n" + string.Concat(Enumerable.Range(0, 60).Select(i => $"film {i}\t{label(i)}\n"));

    /// <summary>The lock file of a run that is alive (this test process), for "-o model".</summary>
    private static (string, byte[]) LiveLock()
    {
        using var me = Process.GetCurrentProcess();
        return File(".model.lock", FormattableString.Invariant($"{me.Id} {me.StartTime.ToUniversalTime().Ticks}\n"));
    }

    public static IReadOnlyList<BadInputCase> All { get; } =
    [
        // The data file
        new("data file missing", "train nope.tsv -o model", "Data file not found: nope.tsv", 1),
        new("data path is a folder", "train folder -o model", "Data file not found: folder", 1, File("folder/readme.txt", "x")),
        new("empty data file", "train data.tsv -o model", "data.tsv is empty", 1, File("data.tsv", "")),
        new("only blank lines", "train data.tsv -o model", "data.tsv is empty", 1, File("data.tsv", "   \n\n \n")),
        new("a header and no rows", "train data.tsv -o model", "data.tsv has no examples with a non-empty text (0 skipped as empty)", 1, File("data.tsv", "text\tlabel\n")),
        new("every text empty", "train data.tsv -o model", "(2 skipped as empty)", 1, File("data.tsv", "text\tlabel\n\tpos\n  \tneg\n")),
        new("binary file", "train data.tsv -o model", "data.tsv line 1: a NUL byte at byte 4: this is a binary file", 1, File("data.tsv", [0x1f, 0x8b, 0x08, 0x00, 0x61, 0x62, 0x00, 0xff])),
        new("not UTF-8 (Latin-1)", "train data.tsv -o model", "data.tsv line 3: 0xE9 at byte 4 is not UTF-8; save the file as UTF-8", 1,
            File("data.tsv", [.. "text\tlabel\ngood\tpos\n"u8, .. "caf"u8, 0xE9, .. "\tneg\n"u8])),
        new("row with too few fields", "train data.tsv -o model", "data.tsv line 42: 1 field(s) separated by tabs, but column 1 is needed", 1, File("data.tsv", "text\tlabel\n" + GoodRows + "lonely\n")),
        new("empty label", "train data.tsv -o model", "data.tsv line 3: the label is empty", 1, File("data.tsv", "text\tlabel\ngood\tpos\nbad\t\n")),
        new("unclosed CSV quote", "train data.csv -o model", "data.csv line 2: a quoted field is not closed", 1, File("data.csv", "text,label\n\"good,pos\nbad,neg\n")),
        new("one class only", "train data.tsv -o model", "data.tsv has only one class ('pos')", 1, File("data.tsv", "text\tlabel\ngood\tpos\nfine\tpos\n")),
        new("continuous (float) labels", "train data.tsv -o model", "the label column has 60 distinct numeric values", 1,
            File("data.tsv", Continuous(i => (i * 0.37).ToString("F2", CultureInfo.InvariantCulture)))),
        new("one integer label per row (an id column)", "train data.tsv -o model", "which looks like a continuous target, not classes; pass --labels-are-classes", 1,
            File("data.tsv", Continuous(i => (1000 + i).ToString(CultureInfo.InvariantCulture)))),
        new("validation file missing", "train data.tsv --validation dev.tsv -o model", "Data file not found: dev.tsv", 1, Good),
        new("validation labels unseen in training", "train data.tsv --validation dev.tsv -o model", "dev.tsv has label(s) not seen in training: meh", 1,
            Good, File("dev.tsv", "text\tlabel\nso so\tmeh\n")),
        // Columns
        new("text column name not in the header", "train data.tsv -o model", "no text column 'text'. Available columns: 'review' (0), 'stars' (1)", 2,
            File("data.tsv", "review\tstars\ngood\t5\nbad\t1\n")),
        new("label column name not in the header", "train data.tsv --label-col sentiment -o model", "no label column 'sentiment'", 2, Good),
        new("column index beyond the row", "train data.tsv --text-col 5 --label-col 1 -o model", "no text column '5'. Available columns: 'text' (0), 'label' (1)", 2, Good),
        new("column names with --has-header false", "train data.tsv --has-header false -o model", "no text column 'text'. Available columns: 0, 1", 2, Good),
        new("second text column not in the header", "train data.tsv --text2-col hypothesis -o model", "no second text column 'hypothesis'", 2, Good),
        new("text column = label column (names)", "train data.tsv --text-col label -o model", "the text column 'label' and the label column 'label' are the same column (1, 'label')", 2, Good),
        new("text column = label column (indexes)", "train data.tsv --text-col 1 --label-col 1 -o model", "are the same column (1, 'label')", 2, Good),
        new("second text column = label column", "train data.tsv --text2-col label -o model", "the label column 'label' and the second text column 'label' are the same column", 2, Good),
        new("duplicate header name that is used", "train data.tsv -o model", "the header names 2 columns 'text' (columns 0, 1), which is the text column", 1,
            File("data.tsv", "text\ttext\tlabel\na\tb\tpos\nc\td\tneg\n")),
        new("--weight-col not in the header", "train data.tsv --weight-col weight -o model", "no weight column 'weight'. Available columns: 'text' (0), 'label' (1)", 2, Good),
        new("--weight-col = label column", "train data.tsv --weight-col label -o model", "the label column 'label' and the weight column 'label' are the same column", 2, Good),
        // Example weights (--weight-col)
        new("negative weight", "train data.tsv --weight-col w -o model", "data.tsv line 7: the weight -1 (column 'w') is negative; weights must be finite numbers >= 0 (e.g. 1 or 0.5); fix the value or drop the row.", 1, Weighted("-1")),
        new("NaN weight", "train data.tsv --weight-col w -o model", "data.tsv line 7: the weight NaN (column 'w') is not a finite number; weights must be finite numbers >= 0", 1, Weighted("NaN")),
        new("infinite weight", "train data.tsv --weight-col w -o model", "data.tsv line 7: the weight Infinity (column 'w') is not a finite number", 1, Weighted("Infinity")),
        new("weight not a number", "train data.tsv --weight-col w -o model", "data.tsv line 7: the weight 'heavy' (column 'w') is not a number; weights must be finite numbers >= 0", 1, Weighted("heavy")),
        new("every weight 0", "train data.tsv --weight-col w -o model", "data.tsv: every weight (column 'w') is 0, so training would learn nothing; give some rows a weight > 0.", 1,
            File("data.tsv", "text\tlabel\tw\ngood\tpos\t0\nbad\tneg\t0\n")),
        new("separator of two characters", "train data.tsv --separator ab -o model", "--separator 'ab' is not one character", 2, Good),
        // Option values
        new("--lr not a number", "train data.tsv --lr fast -o model", "--lr expects a number (e.g. 0.001 or 1e-3), got 'fast'.", 2, Good),
        new("--epochs not a whole number", "train data.tsv --epochs 2.5 -o model", "--epochs expects a whole number, got '2.5'.", 2, Good),
        new("--seed negative", "train data.tsv --seed -1 -o model", "--seed expects a whole number >= 0, got '-1'.", 2, Good),
        new("--has-header not a boolean", "train data.tsv --has-header maybe -o model", "Unrecognized command or argument 'maybe'", 2, Good),
        new("unknown option", "train data.tsv --bogus -o model", "Unrecognized command or argument '--bogus'", 2, Good),
        new("data argument missing", "train -o model", "Required argument missing for command: 'train'", 2),
        new("no verb", "", "Required command was not provided", 2),
        new("unknown verb", "trian", "Unrecognized command or argument 'trian'", 2, Good),
        new("--epochs 0", "train data.tsv --epochs 0 -o model", "Epochs = 0 is invalid: it must be >= 1", 2, Good),
        new("--batch-size 0", "train data.tsv --batch-size 0 -o model", "BatchSize = 0 is invalid: it must be >= 1", 2, Good),
        new("--max-length below 8", "train data.tsv --max-length 4 -o model", "MaxSequenceLength = 4 is invalid: it must be >= 8", 2, Good),
        new("--max-length beyond the position table", "train data.tsv --max-length 100000 -o model --preset tiny", "--max-length) = 100000 exceeds the 512 positions of the 'tiny' preset; use --max-length 512 or less", 2, Good),
        new("--max-steps 0", "train data.tsv --max-steps 0 -o model", "MaxSteps = 0 is invalid", 2, Good),
        new("--validation-fraction 1.5", "train data.tsv --validation-fraction 1.5 -o model", "ValidationFraction = 1.5 is invalid: it must be in [0, 1)", 2, Good),
        new("--checkpoint-every 0", "train data.tsv --checkpoint-every 0 -o model", "CheckpointEvery = 0 is invalid", 2, Good),
        new("--grad-accumulation 0", "train data.tsv --grad-accumulation 0 -o model", "GradientAccumulation = 0 is invalid", 2, Good),
        new("--patience 0", "train data.tsv --patience 0 -o model", "Patience = 0 is invalid", 2, Good),
        new("--early-stopping-metric unknown", "train data.tsv --early-stopping-metric loss -o model", "--early-stopping-metric 'loss' is unknown: use accuracy, macro-f1 or log-loss.", 2, Good),
        new("--class-weights unknown", "train data.tsv --class-weights inverse -o model", "--class-weights 'inverse' is unknown: use none or balanced.", 2, Good),
        new("--precision unknown", "train data.tsv --precision fp8 -o model", "--precision 'fp8' is unknown: use auto, none, bf16 or fp16.", 2, Good),
        new("--optimizer unknown", "train data.tsv --optimizer adam -o model", "--optimizer 'adam' is unknown: use lorenza, adazosam, galore, sam, adamw or lora.", 2, Good),
        new("--ascent unknown", "train data.tsv --ascent up -o model", "--ascent 'up' is unknown: use zeroth-order or momentum", 2, Good),
        new("--rank 0", "train data.tsv --rank 0 -o model", "Rank = 0 is invalid: it must be >= 1", 2, Good),
        new("--rho negative", "train data.tsv --rho -1 -o model", "Rho = -1 is invalid: it must be >= 0", 2, Good),
        new("--refresh-interval 0", "train data.tsv --refresh-interval 0 -o model", "RefreshInterval = 0 is invalid", 2, Good),
        new("--zo-queries 0", "train data.tsv --zo-queries 0 -o model", "ZoQueries = 0 is invalid", 2, Good),
        new("--probe-fraction 0", "train data.tsv --probe-fraction 0 -o model", "ProbeBatchFraction = 0 is invalid: it must be in (0, 1]", 2, Good),
        new("--word-embeddings unknown", "train data.tsv --word-embeddings sparse -o model", "--word-embeddings 'sparse' is unknown: use full, low-rank or frozen", 2, Good),
        new("--word-embeddings low-rank with AdamW", "train data.tsv --optimizer adamw --word-embeddings low-rank -o model", "WordEmbeddings = LowRank needs a projected optimizer (lorenza or galore), not adamw: use Full or Frozen", 2, Good),
        new("--device unknown", "train data.tsv --device tpu -o model", "Unknown device 'tpu'. Use 'auto', 'cpu', 'cuda' or 'cuda:N'", 2, Good),
        new("--preset unknown", "train data.tsv --preset huge -o model", "--preset 'huge' is unknown: use tiny, small or base.", 2, Good),
        new("--model folder missing", "train data.tsv --model nomodel -o model", "Pretrained model folder not found: nomodel", 1, Good),
        new("--model: not a valid hub id", "train data.tsv --model org/-name -o model", "'org/-name' is not a valid Hugging Face Hub id", 1, Good),
        new("--model: a hub id with an empty revision", "train data.tsv --model org/name@ -o model", "'org/name@' has no valid revision after '@'", 1, Good),
        new("--model: a hub revision that would name a drive (C:…)", "train data.tsv --model org/name@C:x -o model", "'org/name@C:x' has no valid revision after '@'", 1, Good),
        new("--model and --preset both", "train data.tsv --model minilm --preset tiny -o model", "--model minilm and --preset tiny are both given: --model fine-tunes a pretrained model, --preset trains one from scratch. Give only one.", 2, Good),
        new("--lr-schedule unknown", "train data.tsv --lr-schedule steps --max-steps 1 -o model", "--lr-schedule 'steps' is unknown: use linear, cosine or constant.", 2, Good),
        new("--warmup-fraction 1.5", "train data.tsv --warmup-fraction 1.5 --max-steps 1 -o model", "WarmupFraction = 1.5 is invalid: it must be in [0, 1)", 2, Good),
        new("--warmup-fraction 1.5 with a constant schedule", "train data.tsv --lr-schedule constant --warmup-fraction 1.5 --max-steps 1 -o model", "WarmupFraction = 1.5 is invalid: it must be in [0, 1)", 2, Good),
        new("--resume without a checkpoint", "train data.tsv --resume --max-steps 1 -o model --preset tiny", "No checkpoint to resume from at model/checkpoint.safetensors", 1, Good),
        // The output folder
        new("output is an existing file", "train data.tsv -o model --preset tiny", "--output model is an existing file, not a folder", 1, Good, File("model", "my notes")),
        new("output folder holds other files", "train data.tsv -o model --preset tiny", "--output model holds 'notes.txt', which is not part of a model, and would be replaced", 1, Good, File("model/notes.txt", "mine")),
        new("output folder not writable", "train data.tsv -o /sys/lorenza-model --preset tiny", "--output /sys/lorenza-model: cannot write to /sys", 1, Good),
        new("output folder in use by another run", "train data.tsv -o model --preset tiny", "model is being written by another lorenza run (process", 1, Good, LiveLock()),
        // Other verbs
        new("predict: model folder missing", "predict --model nomodel", "Model folder not found: nomodel", 1),
        // Damaged or hostile model folders: refused before a model of the config's sizes is allocated
        new("config.json claims a million layers (predict)", "predict --model model", "model/config.json: num_hidden_layers = 1000000, but model/model.safetensors holds 2 layers; config.json does not describe these weights.", 1,
            DamagedModel(f => EditConfig(f, "num_hidden_layers", 1_000_000))),
        new("config.json claims a million layers (train)", "train data.tsv --model model -o out", "model/config.json: num_hidden_layers = 1000000, but ", 1,
            [Good, .. DamagedModel(f => EditConfig(f, "num_hidden_layers", 1_000_000))]),
        new("config.json claims a huge hidden size", "predict --model model", "model/config.json: vocab_size = 99 and hidden_size = 1048576 need bert.embeddings.word_embeddings.weight of shape [99, 1048576], but model/model.safetensors has [99, 16]; config.json does not describe these weights.", 1,
            DamagedModel(f => EditConfig(f, "hidden_size", 1 << 20))),
        new("config.json claims a huge vocabulary", "predict --model model", "model/config.json: vocab_size = 2000000000 and hidden_size = 16 need bert.embeddings.word_embeddings.weight of shape [2000000000, 16]", 1,
            DamagedModel(f => EditConfig(f, "vocab_size", 2_000_000_000))),
        new("config.json claims huge type and position tables", "predict --model model", "model/config.json: its sizes (hidden_size = 16, intermediate_size = 64, max_position_embeddings = 2000000000, type_vocab_size = 2) need at least", 1,
            DamagedModel(f => EditConfig(f, "max_position_embeddings", 2_000_000_000))),
        new("config.json value of the wrong type", "predict --model model", "model/config.json: \"hidden_size\" must be a whole number, not the string \"16\".", 1,
            DamagedModel(f => EditConfig(f, "hidden_size", "16"))),
        new("config.json with a key twice", "predict --model model", "model/config.json is not valid JSON (Duplicate property 'hidden_size'", 1,
            DamagedModel(f => System.IO.File.WriteAllText(Path.Combine(f, "config.json"), System.IO.File.ReadAllText(Path.Combine(f, "config.json")).Replace("\"hidden_size\"", "\"hidden_size\": 16, \"hidden_size\"")))),
        new("config.json nested 100,000 deep", "predict --model model", "model/config.json is not valid JSON (The maximum configured depth of 64 has been exceeded", 1,
            DamagedModel(f => System.IO.File.WriteAllText(Path.Combine(f, "config.json"), "{\"a\":" + new string('[', 100_000)))),
        new("lorenza.json cut short", "predict --model model", "model/lorenza.json is not valid JSON (", 1,
            DamagedModel(f => Truncate(Path.Combine(f, "lorenza.json"), 0.5))),
        new("lorenza.json value of the wrong type", "predict --model model", "model/lorenza.json: \"max_sequence_length\" must be a whole number, not an array.", 1,
            DamagedModel(f => EditJson(Path.Combine(f, "lorenza.json"), "max_sequence_length", new JsonArray()))),
        new("model.safetensors cut short", "predict --model model", "model/model.safetensors: tensor 'bert.encoder.layer.1.output.dense.weight' data_offsets [30784, 34880] lie outside the data section (32064 bytes).", 1,
            DamagedModel(f => Truncate(Path.Combine(f, "model.safetensors"), 0.9))),
        new("model.safetensors header claims a huge tensor", "predict --model model", "does not fit its", 1,
            DamagedModel(f => System.IO.File.WriteAllBytes(Path.Combine(f, "model.safetensors"), ReplaceInHeader(System.IO.File.ReadAllBytes(Path.Combine(f, "model.safetensors")), "\"shape\":[64,16]", "\"shape\":[4611686018427387904,16]")))),
        new("tokenizer_config.json cut short", "predict --model model", "model/tokenizer_config.json is not valid JSON", 1,
            DamagedModel(f => System.IO.File.WriteAllText(Path.Combine(f, "tokenizer_config.json"), "{\"do_lower_case\": tru"))),
        // pytorch_model.bin is read only after its pickle is checked: one that would call anything but tensors and OrderedDicts is refused
        new("pytorch_model.bin whose pickle would run a command (train)", "train data.tsv --model model -o out",
            "model/pytorch_model.bin's pickle calls posix.system, which a state dict never does: refusing it (nothing was run); use model.safetensors or a trusted file.", 1,
            [Good, .. DamagedModel(f => WithPyTorchFile(f, Pickles.TorchSave(Pickles.Calling("posix", "system", "touch pwned"))))]),
        new("pytorch_model.bin naming builtins.exec through the stack (STACK_GLOBAL)", "predict --model model",
            "model/pytorch_model.bin's pickle calls builtins.exec, which a state dict never does", 1,
            DamagedModel(f => WithPyTorchFile(f, Pickles.TorchSave(Pickles.CallingByStackGlobal("builtins", "exec", "open('pwned', 'w')"))))),
        // … and one whose storages claim more than the archive holds is refused before TorchSharp.PyBridge allocates them
        new("pytorch_model.bin whose storage claims more values than its entry holds", "predict --model model",
            "model/pytorch_model.bin: storage 0 claims 16,777,216 float32 values (67,108,864 bytes) but archive/data/0 holds 16 bytes: the file is damaged or crafted; refusing it before allocating", 1,
            DamagedModel(f => WithPyTorchFile(f, Pickles.TorchSave(Pickles.StateDict(new Pickles.Weight("bert.embeddings.word_embeddings.weight", 4096 * 4096, [4096, 4096], [4096, 1])))))),
        new("pytorch_model.bin in torch.save's legacy format (before PyTorch 1.6)", "predict --model model",
            "model/pytorch_model.bin is not a readable torch.save state dict (not a zip archive: torch.save's legacy format, before PyTorch 1.6, is not read)", 1,
            DamagedModel(f => WithPyTorchFile(f, [0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, (byte)'.']))),
        new("predict: --model not given", "predict", "Option '--model' is required.", 2),
        new("evaluate: --model not given", "evaluate data.tsv", "Option '--model' is required.", 2, Good),
        new("export: --onnx not given", "export --model nomodel", "Option '--onnx' is required.", 2),
    ];

    /// <summary>The files of a tiny BERT classifier folder (as `lorenza train` writes it) under model/, after <paramref name="damage"/>.</summary>
    private static (string, byte[])[] DamagedModel(Action<string> damage)
    {
        var folder = Directory.CreateTempSubdirectory("lorenza-bad-model-").FullName;
        try
        {
            BertFixture.WriteTiny(folder, hidden: 16, layers: 2, maxLength: 32);
            using (var classifier = TextClassifier.Load(folder)) classifier.Save(folder);
            damage(folder);
            return Directory.GetFiles(folder).Order(StringComparer.Ordinal).Select(f => File("model/" + Path.GetFileName(f), System.IO.File.ReadAllBytes(f))).ToArray();
        }
        finally
        {
            Directory.Delete(folder, true);
        }
    }

    /// <summary>The folder's weights as pytorch_model.bin (<paramref name="file"/>) instead of model.safetensors.</summary>
    private static void WithPyTorchFile(string folder, byte[] file)
    {
        System.IO.File.Delete(Path.Combine(folder, "model.safetensors"));
        System.IO.File.WriteAllBytes(Path.Combine(folder, "pytorch_model.bin"), file);
    }

    private static void EditConfig(string folder, string key, JsonNode value) => EditJson(Path.Combine(folder, "config.json"), key, value);

    private static void EditJson(string path, string key, JsonNode value)
    {
        var json = JsonNode.Parse(System.IO.File.ReadAllText(path))!.AsObject();
        json[key] = value;
        System.IO.File.WriteAllText(path, json.ToJsonString());
    }

    private static void Truncate(string path, double fraction)
    {
        var bytes = System.IO.File.ReadAllBytes(path);
        System.IO.File.WriteAllBytes(path, bytes[..(int)(bytes.Length * fraction)]);
    }

    /// <summary>A safetensors file with <paramref name="from"/> replaced in its header (the length prefix rewritten).</summary>
    private static byte[] ReplaceInHeader(byte[] file, string from, string to)
    {
        var length = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        var header = Encoding.UTF8.GetString(file, 8, length);
        if (!header.Contains(from, StringComparison.Ordinal)) throw new ArgumentException($"'{from}' is not in the header", nameof(from));
        var edited = Encoding.UTF8.GetBytes(header.Replace(from, to, StringComparison.Ordinal));
        var result = new byte[8 + edited.Length + file.Length - 8 - length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)edited.Length);
        edited.CopyTo(result, 8);
        file.AsSpan(8 + length).CopyTo(result.AsSpan(8 + edited.Length));
        return result;
    }

    public static IReadOnlyList<BadInputElsewhere> Elsewhere { get; } =
    [
        new("not enough free disk space for the model and a checkpoint", "free on that disk, but the model and a checkpoint need about", "OutputFolderTests.NotEnoughFreeSpace_IsRefusedBeforeTraining"),
        new("a failed final save (disk full while writing the model)", "No space left on device", "OutputFolderTests.AFailedSave_LeavesThePreviousModel_OrNothing"),
        new("Ctrl+C during training", "Resume with: lorenza ", "OutputFolderTests.CtrlC_SavesACheckpoint_AndPrintsTheResumeCommand"),
        new("ML.NET: empty data view (through MapValueToKey)", "The training data has no rows: nothing to train on.", "BadInputTests.EmptyData_SaysNoRows_NotOneClass"),
        new("a damaged training checkpoint (--resume)", "is damaged (its contents do not match the digest written with it)", "HostileFileTests.ADamagedCheckpoint_IsRefusedWhole"),
        new("pytorch_model.bin calling a function by any opcode (GLOBAL, STACK_GLOBAL through the memo or behind a MARK, INST, NEWOBJ, EXT, a call without arguments)",
            "calls subprocess.Popen, which a state dict never does", "HostileFileTests.EveryWayOfNamingAFunction_IsRefusedBeforeUnpickling"),
        new("pytorch_model.bin saved by PyTorch with os.system, eval, subprocess.Popen or os.getpid in a `__reduce__` (torch.load(weights_only=True) refuses each too)",
            "calls posix.system, which a state dict never does: refusing it (nothing was run)", "HostileFileTests.HostileTorchSaveFiles_AreRefused_AsPyTorchsWeightsOnlyLoadRefusesThem"),
        new("pytorch_model.bin cut short or garbled (every truncation of its pickle, unknown opcodes, stack underflow, huge lengths)",
            "is not a readable torch.save state dict (archive/data.pkl: ", "HostileFileTests.DamagedPickles_EndInInvalidDataException_NeverAHang"),
        new("pytorch_model.bin whose tensor needs more values than its storage holds (its size, a stride, an offset, a stride of 0), whose tensors copy one storage more than 16 times, whose zip entries claim more bytes than the file has, or whose sizes are not literals",
            "needs 16,777,216 float32 values but storage 0 holds 4", "HostileFileTests.AStorageLargerThanItsEntry_OrATensorLargerThanItsStorage_IsRefusedBeforeAllocating"),
        new("any damaged model, tokenizer, data or checkpoint file (seeded mutations of every reader)", "InvalidDataException", "MutationTests.EveryReader_ReadsOrRefusesDamagedFiles_WithInvalidDataException"),
        new("ML.NET: an example weight column that is not float (Single)", "but it must be a float (Single) column", "WeightsPipelineTests.AWeightColumnThatIsNotFloat_OrMissing_IsRefused_NamingTheFix"),
        new("ML.NET: a negative, NaN or all-zero example weight", "is negative; weights must be finite numbers >= 0", "WeightsPipelineTests.ANegativeOrNaNOrAllZeroWeight_IsRefusedBeforeTraining"),
        // Models from the Hugging Face Hub (against the stand-in hub the tests start)
        new("--model org/name: no such model, or a private one and no token", "has no model lorenza-test/nope, or it is private", "HubCliTests.PretrainedGetAndListShowHubModels_AndTheErrorsAreOneLine"),
        new("--model org/name: a gated model and no token", "is a gated model: accept its terms at", "HubCliTests.PretrainedGetAndListShowHubModels_AndTheErrorsAreOneLine"),
        new("--model org/name: a gated model and a token without access", "is a gated model and the token from", "HubDownloadTests.TheHubsRefusalsAreOneLineNamingWhatToDo"),
        new("--model org/name@rev: no such revision", "has no revision 'nope'", "HubCliTests.PretrainedGetAndListShowHubModels_AndTheErrorsAreOneLine"),
        new("--model org/name: a model type the engine does not support (refused after config.json)", "is a 'gpt2' model", "HubCliTests.PretrainedGetAndListShowHubModels_AndTheErrorsAreOneLine"),
        new("--model org/name: no PyTorch weights in the repository", "has no PyTorch weights", "HubDownloadTests.TheHubsRefusalsAreOneLineNamingWhatToDo"),
        new("--model org/name: the family's tokenizer files missing", "roberta model's tokenizer needs", "HubDownloadTests.TheHubsRefusalsAreOneLineNamingWhatToDo"),
        new("--model org/name: a shard name that would leave the snapshot folder", "outside the model's snapshot folder", "HubDownloadTests.TheHubsRefusalsAreOneLineNamingWhatToDo"),
        new("--model org/name: a commit (X-Repo-Commit) or etag from the hub that would name a path outside the cache", "which is not 40 hexadecimal digits; refusing it",
            "HubDownloadTests.AForgedCommitOrEtagIsRefusedBeforeAnythingIsWritten"),
        new("--model org/name with HF_HUB_OFFLINE=1 and not in the cache", "HF_HUB_OFFLINE is set and the hub cache", "HubCliTests.PretrainedGetAndListShowHubModels_AndTheErrorsAreOneLine"),
        new("--model org/name: the hub unreachable and the model not in the cache", "cannot download ", "HubCliTests.PretrainedGetAndListShowHubModels_AndTheErrorsAreOneLine"),
        new("--model org/name: the hub does not answer within HF_HUB_ETAG_TIMEOUT and the model not in the cache", "within 1 s (HF_HUB_ETAG_TIMEOUT))", "HubDownloadTests.AHangingHubMeetsTheShortMetadataTimeout_AStalledTransferIsResumed"),
        new("--model org/name: the transfer cut again and again", "gave up after 5 retries", "HubDownloadTests.ATransferCutEveryTimeFailsAndLeavesNoPartialFile"),
        new("--model org/name: every answer cut at the same point by a server that ignores ranges (no progress past it)", "gave up after 5 retries",
            "HubDownloadTests.ATransferCutAtTheSamePointEveryTime_ByAServerIgnoringRanges_IsGivenUp"),
        new("vocab.txt with a line holding a lone carriage return, a blank line or a token twice", "ids are line numbers",
            "FuzzCorpusTests.AVocabTxtLineWithALoneCarriageReturn_ShiftsNoId_AndRepeatedOrBlankTokensLoad"),
        new("vocab.json with a key holding a line break or a lone surrogate escape, and broken syntax", "is not a JSON object of token → id: ",
            "FuzzCorpusTests.AVocabJsonKeyWithALineBreak_IsRefusedInOneLine"),
        new("--model org/name: a blob whose SHA-256 is not its etag", "arrived corrupted", "HubDownloadTests.ACorruptedBlobFailsTheSha256CheckAndIsNotKept"),
        new("--model org/name: not enough disk space for the download", "not enough disk space for", "HubDownloadTests.NotEnoughDiskSpaceIsRefusedBeforeAnyWeightIsDownloaded"),
        new("ML.NET: a LorenzaTransformer file whose entry would be written outside the folder it is read into (..\\x, C:x, a/b)",
            "which would be written outside the folder it is read into", "PersistenceTests.Load_OfAnEntryThatWouldLeaveItsFolder_IsRefused"),
        new("ML.NET: PretrainedModelPath neither a folder, a built-in name nor a hub id", "PretrainedModelPath = 'roberta-base': Pretrained model folder not found", "HubPipelineTests.PretrainedModelPathTakesAHubId_ASecondFitOfflineUsesTheCache"),
    ];
}
