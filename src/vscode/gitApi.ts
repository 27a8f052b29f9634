import * as vscode from 'vscode';

/**
 * The few parts of the built-in git extension's API (`vscode.git`, API version 1) Keysentry uses,
 * declared here from its documented shape.
 */
export interface GitUpstreamRef {
  remote: string;
  name: string;
  commit?: string;
}

export interface GitBranch {
  name?: string;
  commit?: string;
  upstream?: GitUpstreamRef;
  ahead?: number;
  behind?: number;
}

export interface GitRemote {
  name: string;
  fetchUrl?: string;
  pushUrl?: string;
}

export interface GitRepositoryState {
  readonly HEAD: GitBranch | undefined;
  readonly remotes: GitRemote[];
  readonly onDidChange: vscode.Event<void>;
}

export interface GitRepository {
  readonly rootUri: vscode.Uri;
  readonly state: GitRepositoryState;
  push(remoteName?: string, branchName?: string, setUpstream?: boolean): Promise<void>;
  /** Re-reads the repository (HEAD, remotes) from disk. */
  status(): Promise<void>;
}

export interface GitErrorLike {
  message?: string;
  stderr?: string;
  gitErrorCode?: string;
}

export interface GitPushErrorHandler {
  handlePushError(repository: GitRepository, remote: GitRemote, refspec: string, error: GitErrorLike): Promise<boolean>;
}

export interface GitApi {
  readonly state: 'uninitialized' | 'initialized';
  readonly onDidChangeState: vscode.Event<'uninitialized' | 'initialized'>;
  readonly repositories: GitRepository[];
  readonly onDidOpenRepository: vscode.Event<GitRepository>;
  readonly onDidCloseRepository: vscode.Event<GitRepository>;
  getRepository(uri: vscode.Uri): GitRepository | null;
  openRepository?(root: vscode.Uri): Promise<GitRepository | null>;
  toGitUri(uri: vscode.Uri, ref: string): vscode.Uri;
  registerPushErrorHandler(handler: GitPushErrorHandler): vscode.Disposable;
}

/** The git extension's API, or undefined when git is disabled or missing. */
export async function getGitApi(): Promise<GitApi | undefined> {
  const ext = vscode.extensions.getExtension<{ enabled: boolean; getAPI(version: 1): GitApi }>('vscode.git');
  if (!ext) return undefined;
  try {
    const exports = ext.isActive ? ext.exports : await ext.activate();
    return exports?.enabled ? exports.getAPI(1) : undefined;
  } catch {
    return undefined;
  }
}
