// WardenCompiler
