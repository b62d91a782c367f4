/**
 * The agent loop. Ask the model; when it calls tools, run them in the sandbox
 * (frames as they go), add the results to the conversation and ask again; stop
 * at an answer or at the step limit. Without tools: one call, a plain reply.
 */
import { DEFAULT_MAX_STEPS, type ChatMessage, type TaskInput, type ToolEndFrame, type ToolName, type Usage } from '../core/protocol.js';
import { HINTS, toWorkerFailure, WorkerFailure, type ClassifyContext } from './classify.js';
import { conversationOf, type ConversationEntry } from './conversation.js';
import { messageFrame } from './message-frame.js';
import type { ModelTurn } from './model-call.js';
import type { StreamOutcome } from './reply.js';
import type { RunContext } from './run.js';
import type { ModelToolCall } from './tool-calls.js';
import { toolSpecs, type ToolResult, type ToolSpec } from './tool-defs.js';
import { preview } from './tool-output.js';
import { checkToolCall, runTool } from './tools.js';

export interface TaskOutcome extends StreamOutcome {
  /** With tools: model calls made. */
  steps?: number;
  /** With tools: runs per tool. */
  toolsUsed?: Record<string, number>;
}

export type CallModel = (conversation: readonly ConversationEntry[], step: number, tools: readonly ToolSpec[]) => Promise<ModelTurn>;

/** Token counts summed over the task's model calls (absent when no call reported them). */
class UsageTotal {
  private input: number | undefined;
  private output: number | undefined;
  private model: string | undefined;

  add(u: Usage): void {
    this.model ??= u.model;
    if (u.input_tokens !== undefined) this.input = (this.input ?? 0) + u.input_tokens;
    if (u.output_tokens !== undefined) this.output = (this.output ?? 0) + u.output_tokens;
  }

  total(): Usage {
    const u: Usage = {};
    if (this.model !== undefined) u.model = this.model;
    if (this.input !== undefined) u.input_tokens = this.input;
    if (this.output !== undefined) u.output_tokens = this.output;
    return u;
  }
}

const CUT_BY_LIMIT = new Set(['length', 'max_tokens']);

export async function runAgent(task: TaskInput, rc: RunContext, ctx: ClassifyContext, callModel: CallModel): Promise<TaskOutcome> {
  const offered = [...new Set(task.tools ?? [])] as ToolName[];
  if (offered.length === 0) return (await callModel(conversationOf(task.messages), 1, [])).outcome;

  const { log, emit } = rc;
  const taskId = task.task_id;
  const specs = toolSpecs(offered);
  const maxSteps = task.max_steps ?? DEFAULT_MAX_STEPS;
  const cwd = rc.cwd ?? process.cwd();
  const conversation = conversationOf(task.messages);
  const usage = new UsageTotal();
  const toolsUsed: Record<string, number> = {};
  let step = 0;
  let running: string | undefined;

  const add = (message: ChatMessage, extra: Partial<ConversationEntry> = {}, truncated = false): void => {
    conversation.push({ message, ...extra });
    emit(messageFrame(taskId, message, truncated));
  };

  const execute = async (call: ModelToolCall, cutByLimit: boolean): Promise<ToolResult> => {
    const started = Date.now();
    emit({ type: 'tool_start', task_id: taskId, call_id: call.id, tool: call.name, preview: preview(call.arguments), step });
    const checked = checkToolCall(call, offered, cutByLimit);
    let result: ToolResult;
    if (!checked.ok) {
      result = { ok: false, text: `error: ${checked.error}` };
    } else {
      toolsUsed[checked.tool] = (toolsUsed[checked.tool] ?? 0) + 1;
      running = checked.tool;
      const onOutput = (content: string): void => emit({ type: 'tool_output', task_id: taskId, call_id: call.id, content });
      result = await runTool(checked.tool, checked.args, { cwd, signal: rc.signal, onOutput });
    }
    const end: ToolEndFrame = { type: 'tool_end', task_id: taskId, call_id: call.id, tool: call.name, ok: result.ok, duration_ms: Date.now() - started };
    if (result.exitCode !== undefined) end.exit_code = result.exitCode;
    end.preview = preview(result.text);
    emit(end);
    log.info('tool', { step, call_id: call.id, tool: call.name, ok: result.ok, exit_code: result.exitCode, duration_ms: end.duration_ms, result_bytes: Buffer.byteLength(result.text) });
    return result;
  };

  try {
    for (;;) {
      step++;
      const turn = await callModel(conversation, step, specs);
      usage.add(turn.outcome.usage);
      if (turn.toolCalls.length === 0) {
        const final = turn.outcome;
        add({ role: 'assistant', content: final.finalResponse }, {}, final.finalResponseBytes !== undefined);
        log.info('agent done', { steps: step, tools_used: toolsUsed });
        return { ...final, usage: usage.total(), steps: step, toolsUsed };
      }
      const calls = turn.toolCalls.map(({ id, name, arguments: a }) => ({ id, name, arguments: a }));
      add({ role: 'assistant', content: turn.text.text, tool_calls: calls }, turn.thinking.length > 0 ? { thinking: turn.thinking } : {}, turn.text.truncated);
      // At the limit the calls are answered but not run: the history stays valid, nothing more happens.
      const atLimit = step >= maxSteps;
      const cutByLimit = CUT_BY_LIMIT.has(turn.outcome.stopReason ?? '');
      for (const call of turn.toolCalls) {
        let result: ToolResult;
        if (atLimit) result = { ok: false, text: `not run: the step limit (max_steps ${maxSteps}) was reached` };
        else if (rc.signal?.aborted) result = { ok: false, text: 'not run: the task was cancelled' };
        else result = await execute(call, cutByLimit);
        if (!rc.signal?.aborted) running = undefined; // else the error names the tool that was stopped
        add({ role: 'tool', tool_call_id: call.id, name: call.name, content: result.text, ...(result.ok ? {} : { is_error: true }) });
      }
      if (rc.signal?.aborted) throw rc.signal.reason;
      if (atLimit) {
        throw new WorkerFailure('MAX_STEPS', `the model was still calling tools after ${step} model calls (max_steps ${maxSteps})`, HINTS.MAX_STEPS(step));
      }
    }
  } catch (err) {
    const f = toWorkerFailure(err, ctx);
    // Say how far the task got: which step, and the tool that was running.
    const failure =
      f.code === 'MAX_STEPS' ? f : new WorkerFailure(f.code, `${f.message} (at step ${step} of at most ${maxSteps}${running ? `, while running ${running}` : ''})`, f.hint, f.status);
    failure.progress = { steps: step, toolsUsed, usage: usage.total() };
    throw failure;
  }
}
