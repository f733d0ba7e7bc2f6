@echo off
rem Windows entry point. Needs the .NET 10 SDK, CMake, a C++ compiler (Visual Studio) and libtorch:
rem set LIBTORCH_DIR to an unpacked libtorch (CPU or CUDA) before running.
rem   build.cmd          build and run `lorenza demo`
rem   build.cmd test     build and run every test
setlocal
cd /d "%~dp0"
if "%LIBTORCH_DIR%"=="" (
  echo [build] Set LIBTORCH_DIR to an unpacked libtorch folder ^(https://pytorch.org, "LibTorch"^). 1>&2
  exit /b 2
)
cmake -S src\Microsoft.ML.Lorenza.Native -B artifacts\native-build -DLIBTORCH_DIR="%LIBTORCH_DIR%" || exit /b 1
cmake --build artifacts\native-build --config Release || exit /b 1
if not exist artifacts\native mkdir artifacts\native
copy /y artifacts\native-build\Release\lorenza_torch.dll artifacts\native\ >nul
set PATH=%LIBTORCH_DIR%\lib;%PATH%
set SOLUTION=Microsoft.ML.Lorenza.sln
dotnet restore src\Microsoft.ML.Lorenza\Microsoft.ML.Lorenza.csproj >nul 2>&1 || (
  echo [build] Microsoft.ML cannot be restored here: skipping the ML.NET layer ^(building Microsoft.ML.Lorenza.Engine.slnf^).
  set SOLUTION=Microsoft.ML.Lorenza.Engine.slnf
)
dotnet build %SOLUTION% -c Release -p:SkipNativeBuild=true || exit /b 1
if /i "%1"=="test" (
  dotnet test %SOLUTION% -c Release --no-build --settings test\lorenza.runsettings
  exit /b %ERRORLEVEL%
)
dotnet src\Microsoft.ML.Lorenza.Cli\bin\Release\net10.0\lorenza.dll demo
