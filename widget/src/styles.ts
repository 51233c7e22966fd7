// The widget's only styles. They live inside its shadow root, so the host page's CSS cannot reach
// in and ours cannot leak out; `:host { all: initial }` stops inherited page styles too.

export const WIDGET_CSS = `
:host {
  all: initial;
  position: fixed;
  right: 20px;
  bottom: 20px;
  z-index: 2147483000;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1d2330;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
button, input, textarea { font: inherit; color: inherit; }
button { cursor: pointer; }
:focus-visible { outline: 3px solid #7aa7ff; outline-offset: 2px; }
.launcher {
  position: relative;
  display: flex;
  align-items: center;
  justify-content: center;
  width: 56px;
  height: 56px;
  margin-left: auto;
  border: 0;
  border-radius: 50%;
  background: #2456d6;
  color: #fff;
  box-shadow: 0 4px 14px rgba(0, 0, 0, 0.25);
}
.launcher svg { width: 26px; height: 26px; fill: currentColor; }
.badge {
  position: absolute;
  top: -2px;
  right: -2px;
  min-width: 20px;
  height: 20px;
  padding: 0 5px;
  border-radius: 10px;
  background: #d62424;
  color: #fff;
  font-size: 12px;
  line-height: 20px;
  text-align: center;
}
.panel {
  display: flex;
  flex-direction: column;
  width: min(370px, calc(100vw - 40px));
  height: min(560px, calc(100vh - 110px));
  margin-bottom: 12px;
  border-radius: 12px;
  overflow: hidden;
  background: #fff;
  box-shadow: 0 8px 30px rgba(0, 0, 0, 0.25);
}
.header {
  display: flex;
  align-items: center;
  gap: 8px;
  padding: 12px 14px;
  background: #2456d6;
  color: #fff;
}
.title { flex: 1; margin: 0; font-size: 16px; font-weight: 600; }
.header button {
  border: 1px solid rgba(255, 255, 255, 0.6);
  border-radius: 6px;
  background: transparent;
  color: #fff;
  padding: 3px 9px;
}
.header .close { border: 0; font-size: 20px; line-height: 1; padding: 2px 6px; }
.status { margin: 0; padding: 6px 14px; background: #eef2fb; color: #3b4560; font-size: 13px; }
.status:empty { display: none; }
.prechat { display: flex; flex-direction: column; gap: 10px; padding: 16px 14px; overflow-y: auto; }
.prechat p { margin: 0; }
.prechat label { display: flex; flex-direction: column; gap: 4px; font-weight: 600; font-size: 13px; }
.prechat input, .prechat select, .prechat textarea, .composer textarea {
  width: 100%;
  padding: 8px 10px;
  border: 1px solid #b9c2d6;
  border-radius: 8px;
  background: #fff;
  font-weight: 400;
}
.prechat textarea { min-height: 80px; resize: vertical; }
.primary {
  padding: 9px 14px;
  border: 0;
  border-radius: 8px;
  background: #2456d6;
  color: #fff;
  font-weight: 600;
}
.primary:disabled { opacity: 0.6; cursor: default; }
.problem { margin: 0; color: #b00020; font-size: 13px; }
.problem:empty { display: none; }
.chat { display: flex; flex: 1; flex-direction: column; min-height: 0; }
.messages {
  flex: 1;
  margin: 0;
  padding: 12px 14px;
  overflow-y: auto;
  list-style: none;
  display: flex;
  flex-direction: column;
  gap: 8px;
}
.message { max-width: 82%; display: flex; flex-direction: column; }
.message .body {
  margin: 0;
  padding: 8px 11px;
  border-radius: 12px;
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}
.message.me { align-self: flex-end; align-items: flex-end; }
.message.me .body { background: #2456d6; color: #fff; border-bottom-right-radius: 4px; }
.message.operator { align-self: flex-start; }
.message.operator .body { background: #eef0f4; border-bottom-left-radius: 4px; }
.message.system { align-self: center; max-width: 100%; text-align: center; }
.message.system .body { padding: 2px 8px; color: #5a6378; font-size: 12px; }
.message.pending .body { opacity: 0.6; }
.message.failed .body { background: #fde7e9; color: #7a0014; }
.author { font-size: 12px; color: #5a6378; margin: 0 0 2px 4px; }
.meta { font-size: 11px; color: #5a6378; margin-top: 2px; }
.typing { margin: 0; padding: 0 12px; min-height: 16px; font-size: 12px; font-style: italic; color: #5a6378; }
.retry {
  margin-top: 2px;
  padding: 1px 8px;
  border: 1px solid #b00020;
  border-radius: 6px;
  background: #fff;
  color: #b00020;
  font-size: 12px;
}
.ended { display: flex; flex-direction: column; align-items: center; gap: 8px; padding: 12px; border-top: 1px solid #e3e7ef; }
.ended p { margin: 0; color: #3b4560; }
.composer { position: relative; display: flex; gap: 8px; align-items: flex-end; padding: 10px 12px; border-top: 1px solid #e3e7ef; }
.composer .attach, .composer .emoji { border: 0; background: none; font-size: 18px; padding: 6px 2px; }
.composer .attach { color: #3b4560; }
.attach svg { display: block; width: 20px; height: 20px; fill: none; stroke: currentColor; stroke-width: 2; stroke-linecap: round; transform: rotate(45deg); }
.emoji-picker {
  position: absolute;
  bottom: calc(100% + 4px);
  left: 8px;
  display: grid;
  grid-template-columns: repeat(8, 34px);
  gap: 2px;
  padding: 6px;
  border: 1px solid #e3e7ef;
  border-radius: 10px;
  background: #fff;
  box-shadow: 0 4px 14px rgba(0, 0, 0, 0.18);
}
.emoji-picker button { width: 34px; height: 34px; border: 0; border-radius: 6px; background: none; font-size: 20px; }
.emoji-picker button:is(:hover, :focus) { background: #eef2fb; }
.upload { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 8px; padding: 6px 12px; border-top: 1px solid #e3e7ef; font-size: 13px; }
.upload-label, .upload .problem { flex: 1 1 100%; overflow-wrap: anywhere; }
.upload progress { flex: 1; height: 8px; }
.message.deleted .body { font-style: italic; }
.attachments { list-style: none; margin: 4px 0 0; padding: 0; }
.attachments img { display: block; max-width: 200px; max-height: 160px; border-radius: 8px; }
.attachments a { color: #2456d6; word-break: break-all; }
.composer textarea { flex: 1; min-height: 40px; max-height: 120px; resize: none; field-sizing: content; }
.visually-hidden {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip: rect(0 0 0 0);
  white-space: nowrap;
}
`;
