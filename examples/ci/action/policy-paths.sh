# Sourced by the steps of action.yml: WARDEN_POLICIES (the `policies` input) split at
# spaces and new lines into the array policy_paths. Not globbed; a path starting with `-`
# (an option, or standard input) is refused.
read -r -d '' -a policy_paths <<< "$WARDEN_POLICIES" || true
if [[ ${#policy_paths[@]} == 0 ]]; then
  echo "::error title=warden::the policies input names no path"
  exit 1
fi
for path in "${policy_paths[@]}"; do
  if [[ $path == -* ]]; then
    echo "::error title=warden::policy path '$path' starts with '-'; write ./$path"
    exit 1
  fi
done
