@echo off
rem Windows entry point. Needs only the .NET 10 SDK: TorchSharp and libtorch come from NuGet.
rem   build.cmd          build and run `lorenza demo`
rem   build.cmd test     build and run every test (the reference checks need Python with PyTorch and onnx,
rem                      and Node.js; tests whose reference is missing report Inconclusive)
setlocal
cd /d "%~dp0"
set SOLUTION=Microsoft.ML.Lorenza.sln
rem The ML.NET tests restore both the package's Microsoft.ML floor and the newest the tests run on.
dotnet restore test\Microsoft.ML.Lorenza.Tests\Microsoft.ML.Lorenza.Tests.csproj >nul 2>&1 || (
  echo [build] Microsoft.ML cannot be restored here: skipping the ML.NET layer ^(building Microsoft.ML.Lorenza.Engine.slnf^).
  set SOLUTION=Microsoft.ML.Lorenza.Engine.slnf
)
dotnet build %SOLUTION% -c Release || exit /b 1
if /i "%1"=="test" (
  dotnet test %SOLUTION% -c Release --no-build --settings test\lorenza.runsettings
  exit /b %ERRORLEVEL%
)
dotnet src\Microsoft.ML.Lorenza.Cli\bin\Release\net10.0\lorenza.dll demo
