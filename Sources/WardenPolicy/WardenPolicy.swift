// WardenPolicy
